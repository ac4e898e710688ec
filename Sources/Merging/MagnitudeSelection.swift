import TensorMath

/// Which entries of a task vector δ mergekit's magnitude sparsification keeps (the first k =
/// max(1, ⌊density·n⌋) of torch's `argsort(|δ|, descending=True)`), held in n/64 words instead of a
/// zeroed float32 copy of δ.
///
/// Torch's order puts every kept |δ| at or before the last kept value T and every dropped one at or
/// after it, so an |δ| that comes strictly before T is kept and one strictly after T dropped; only the
/// values equal to T (every NaN counts as equal to every NaN) depend on how the sort arranged them, and
/// a bitmap records which of those torch keeps. The selection itself is `TorchSortOrder.select`, the
/// same as `Kernels.keepSorted`'s, so the kept set is the same.
final class MagnitudeSelection: @unchecked Sendable {
    private enum Rule {
        case all, none
        /// Kept: |δ| before T in the descending order, or equal to T with its bit set.
        case threshold(Float)
    }

    private let rule: Rule
    private let bits: UnsafeMutablePointer<UInt64>?

    /// The selection over `count` entries at `density`; `pairs(range, into: p)` writes the pairs
    /// (|δ|, index) of the elements of `range` (at most `Kernels.chunk` of them) to `p`, e.g. with
    /// `TorchPartition.magnitudePairs`; with `concurrentFill` it is called from several threads at once.
    init(count n: Int, density: Double, concurrentFill: Bool = false, pairs fill: (Range<Int>, UnsafeMutablePointer<TorchSortOrder.Pair>) -> Void) {
        let k = Sparsify.magnitudeCount(density, of: n)
        guard k < n else { rule = .all; bits = nil; return }
        guard k > 0 else { rule = .none; bits = nil; return }
        precondition(n <= TorchSortOrder.maxCount, "MagnitudeSelection: \(n) entries exceed the pair index")
        let buffer = PairPool.shared.take(n)
        defer { PairPool.shared.give(buffer) }
        let pairs = buffer.pointer
        if concurrentFill {
            let box = UncheckedSendable(pairs)
            Merging.Kernels.forEachChunk(n) { r in fill(r, box.value + r.lowerBound) }
        } else {
            var lo = 0
            while lo < n {
                let r = lo..<min(n, lo + Merging.Kernels.chunk)
                fill(r, pairs + lo)
                lo = r.upperBound
            }
        }
        TorchSortOrder.select(pairs, count: n, boundaries: [k], descending: true)
        let words = (n + 63) / 64
        let bits = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        bits.initialize(repeating: 0, count: words)
        rule = .threshold(TorchPartition.keptThreshold(pairs, kept: k, bits: bits))
        self.bits = bits
    }

    deinit { bits?.deallocate() }

    /// The same set for the C merge kernel (valid while this selection lives).
    var keptSet: TaskArithmeticBF16.KeptSet {
        switch rule {
        case .all: .all
        case .none: .none
        case .threshold(let t): .above(t, ties: UnsafePointer(bits!))
        }
    }

    /// u[j] = (kept(first + j) ? d[j] : 0) · w for j < count, where d[j] is δ of element first + j
    /// (`u` may be `d`): the sparsified, weighted task vector, as `Sparsify.magnitude` then the weighting
    /// in `TaskArithmeticMethod.prepareDelta` compute it (the C kernel of the bf16 merge, on float32).
    func weigh(_ d: UnsafePointer<Float>, count: Int, first: Int, weight w: Float, into u: UnsafeMutablePointer<Float>) {
        keptSet.weigh(d, count: count, first: first, weight: w, into: u)
    }
}
