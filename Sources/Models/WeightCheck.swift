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
                let bad = AtomicCounter(), nz = AtomicCounter(), maxBits = MaxTracker()
                Parallel.forChunks(count: hi - lo, minChunk: 1 << 16) { r in
                    var b = 0, z = 0
                    var m: Float = 0
                    for i in r {
                        let v = buffer[i]
                        if !v.isFinite { b += 1 } else { m = max(m, abs(v)) }
                        if v != 0 { z += 1 }
                    }
                    bad.add(b); nz.add(z); maxBits.update(m)
                }
                nonFinite += bad.value
                nonZero = nonZero || nz.value > 0
                report.maxAbs = max(report.maxAbs, maxBits.value)
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

/// The maximum of non-negative floats reported by several threads (compared as bit patterns).
final class MaxTracker: @unchecked Sendable {
    private var bits: UInt32 = 0
    private var lock = pthread_mutex_t()
    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }
    func update(_ v: Float) {
        pthread_mutex_lock(&lock); bits = max(bits, v.bitPattern); pthread_mutex_unlock(&lock)
    }
    var value: Float { Float(bitPattern: bits) }
}
