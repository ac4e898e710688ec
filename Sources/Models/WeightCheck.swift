#if canImport(Glibc)
import Glibc
#endif
import SafeTensors
import TensorMath

/// A scan of every weight for values that make a forward pass meaningless.
public enum WeightCheck {
    /// What the scan found in one tensor (only tensors with a finding are reported).
    public struct Finding: Equatable, Sendable {
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
        let block = 1 << 22
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: block)
        defer { buffer.deallocate() }
        for name in checkpoint.tensorNames {
            let view: TensorView
            do { view = try checkpoint.view(name) } catch { throw .checkpoint(path: checkpoint.directory, detail: error.description) }
            guard view.dtype.floatStorage != nil else { continue }
            var nonFinite = 0, nonZero = false
            var lo = 0
            while lo < view.elementCount {
                let hi = min(view.elementCount, lo + block)
                do { try view.convert(elements: lo..<hi, into: UnsafeMutableRawPointer(buffer), as: .F32) } catch {
                    throw .unsupportedDType(path: checkpoint.directory, tensor: name, dtype: view.dtype.rawValue)
                }
                let s = FloatScan.scan(UnsafeBufferPointer(start: buffer, count: hi - lo))
                nonFinite += s.nonFinite
                nonZero = nonZero || s.nonZero > 0
                report.maxAbs = max(report.maxAbs, s.maxAbs)
                lo = hi
            }
            view.file.dropPages(view.fileOffset..<(view.fileOffset + view.byteCount))
            report.tensors += 1
            report.elements += view.elementCount
            if nonFinite > 0 || !nonZero { report.findings.append(Finding(tensor: name, nonFinite: nonFinite, allZero: !nonZero)) }
            done += view.byteCount
            progress(done, total)
        }
        return report
    }
}

