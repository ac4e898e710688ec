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
