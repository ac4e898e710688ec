#if canImport(Glibc)
import Glibc
#endif
import SafeTensors
import TensorMath

/// A scan of every weight for values that make a forward pass meaningless.
public enum WeightCheck {
    /// What the scan found in one tensor (only tensors with a finding are reported).
    public struct Finding: Equatable, Sendable {
        /// The tensor's name.
        public var tensor: String
        /// NaN or ±Inf values.
        public var nonFinite: Int
        /// True when every value is zero.
        public var allZero: Bool
    }

    /// The scan's result.
    public struct Report: Equatable, Sendable {
        /// Tensors scanned and their total element count.
        public var tensors = 0, elements = 0
        /// Largest |w| over all tensors.
        public var maxAbs: Float = 0
        /// Tensors with non-finite values or all zeros.
        public var findings: [Finding] = []
        /// True when nothing was found.
        public var isHealthy: Bool { findings.isEmpty }
    }

    /// Scans the float tensors of `checkpoint` in blocks, in parallel; `progress(done, total)` in bytes.
    public static func scan(_ checkpoint: Checkpoint, progress: (Int, Int) -> Void = { _, _ in }) throws(ModelError) -> Report {
        var report = Report()
        let total = checkpoint.totalDataBytes
        var done = 0
        for name in checkpoint.tensorNames {
            let view: TensorView
            do { view = try checkpoint.view(name) } catch { throw .checkpoint(path: checkpoint.directory, detail: error.description) }
            guard view.dtype.floatStorage != nil else { continue }
            let s: FloatScan
            do { s = try scan(view) } catch { throw .unsupportedDType(path: checkpoint.directory, tensor: name, dtype: view.dtype.rawValue) }
            let nonFinite = s.nonFinite, nonZero = s.nonZero > 0
            report.maxAbs = max(report.maxAbs, s.maxAbs)
            report.tensors += 1
            report.elements += view.elementCount
            if nonFinite > 0 || !nonZero { report.findings.append(Finding(tensor: name, nonFinite: nonFinite, allZero: !nonZero)) }
            done += view.byteCount
            progress(done, total)
        }
        return report
    }

    /// One float tensor through ``TensorMath/FloatScan``, converted `block` elements at a time to
    /// float32 (float64 tensors to float64, so no finite value reads as Inf), its pages released block
    /// by block: the one tensor scan (`verify`'s weight check and `inspect --check`).
    static func scan(_ view: TensorView, block: Int = 1 << 22) throws(SafeTensorsError) -> FloatScan {
        view.dtype == .F64 ? try scan(view, block: block, as: Double.self, .F64) : try scan(view, block: block, as: Float.self, .F32)
    }

    private static func scan<T: BinaryFloatingPoint>(_ view: TensorView, block: Int, as: T.Type, _ dtype: DType) throws(SafeTensorsError) -> FloatScan {
        let buffer = UnsafeMutablePointer<T>.allocate(capacity: min(block, max(1, view.elementCount)))
        defer { buffer.deallocate() }
        var total = FloatScan()
        var lo = 0
        let size = view.byteCount / max(1, view.elementCount)
        while lo < view.elementCount {
            let hi = min(view.elementCount, lo + block)
            try view.convert(elements: lo..<hi, into: UnsafeMutableRawPointer(buffer), as: dtype)
            total.merge(FloatScan.scan(UnsafeBufferPointer(start: buffer, count: hi - lo)))
            view.file.dropPages(view.fileOffset + lo * size..<view.fileOffset + hi * size)
            lo = hi
        }
        return total
    }
}
