import CKernels

/// One step of torch's CPU sort (libstdc++'s introsort on (value, index) pairs): the Hoare partition
/// around a pivot value, with the scalar loop's exact swaps, its stops found 16 pairs at a time
/// (`lep_torch_partition`, AVX-512 or portable C).
package enum TorchPartition {
    /// A float with its original index, moved as one (C layout: value, then index).
    package typealias Pair = lep_sort_pair

    /// libstdc++'s `__unguarded_partition` of `pairs[first ..< last]` around `pivot` (the value of the
    /// pivot element, which lies before `first`) in torch's descending or ascending order; returns the cut.
    package static func partition(_ pairs: UnsafeMutablePointer<Pair>, first: Int, last: Int, pivot: Float, descending: Bool) -> Int {
        lep_torch_partition(pairs, first, last, pivot, descending ? 1 : 0)
    }
}

extension TorchPartition {
    /// `out[j]` = (|d[j]|, first + j) for j < count: the pairs a magnitude selection sorts.
    package static func magnitudePairs(_ d: UnsafePointer<Float>, count: Int, first: Int, into out: UnsafeMutablePointer<Pair>) {
        lep_magnitude_pairs(d, nil, nil, count, UInt32(first), out)
    }

    /// `out[j]` = (|x[j] − b[j]|, first + j) for j < count, x and b bfloat16 bits (widened exactly, the
    /// difference rounded to float as float32 arithmetic on the widened values rounds it).
    package static func magnitudePairs(x: UnsafePointer<UInt16>, base b: UnsafePointer<UInt16>, count: Int, first: Int, into out: UnsafeMutablePointer<Pair>) {
        lep_magnitude_pairs(nil, x, b, count, UInt32(first), out)
    }

    /// Of the first `kept` pairs of a descending selection: returns T, the smallest kept number (NaN when
    /// only NaNs are kept), and sets bit `index` in `bits` for each kept pair equal to T (every NaN when T
    /// is NaN).
    package static func keptThreshold(_ pairs: UnsafePointer<Pair>, kept: Int, bits: UnsafeMutablePointer<UInt64>) -> Float {
        lep_kept_threshold(pairs, kept, bits)
    }
}
