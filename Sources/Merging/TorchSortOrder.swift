import TensorMath

/// The order in which torch's CPU sort (`torch.sort` / `torch.argsort`, `stable=False`, torch 2.x as
/// mergekit 0.1.5 calls it) leaves equal values, so that magnitude selection keeps exactly the elements
/// mergekit keeps when several |δ| tie at the threshold.
///
/// torch sorts a CPU float tensor with libstdc++'s `std::sort` on (value, index) pairs compared by value
/// only (NaN above every number in ascending order, before every number in descending order). That is
/// introsort: while a range is longer than 16, median-of-three of (first + 1, middle, last − 1) moved to
/// `first`, then an unguarded Hoare partition of (first + 1, last) around it, recursing on the right part
/// and looping on the left; a range whose depth budget (2·⌊log₂ n⌋ levels) runs out is heap-sorted; a
/// final insertion sort finishes. The order of equal values follows from those exact moves, so they are
/// reproduced move for move here (checked against torch on arrays full of ties, NaN, and an input that
/// forces the heap-sort fallback: fixtures/merge/out/torch_sort.safetensors).
///
/// Only the set of elements that land in given position ranges matters for selection, so `select`
/// follows just the partitions that contain a range boundary (as quickselect would): expected linear
/// time instead of a full sort.
enum TorchSortOrder {
    /// A value with its original index, moved as one (torch's composite key/index accessor).
    typealias Pair = TorchPartition.Pair

    /// Largest tensor the pair representation can index.
    static let maxCount = Int(UInt32.max)

    /// The indices of `values` in the order torch.sort(values, descending:, stable=False) returns them.
    static func argsort(_ values: UnsafeBufferPointer<Float>, descending: Bool) -> [Int] {
        let n = values.count
        guard n > 0, n <= maxCount else { return Array(0..<n) }
        let pairs = UnsafeMutablePointer<Pair>.allocate(capacity: n)
        defer { pairs.deallocate() }
        for i in 0..<n { pairs[i] = Pair(value: values[i], index: UInt32(i)) }
        if descending { Introsort<Descending>.sort(pairs, n) } else { Introsort<Ascending>.sort(pairs, n) }
        return (0..<n).map { Int(pairs[$0].index) }
    }

    /// Rearranges `pairs` so that, for every boundary b in `boundaries`, the elements at positions < b
    /// are exactly those torch's full sort puts there (their order within a side is unspecified).
    static func select(_ pairs: UnsafeMutablePointer<Pair>, count n: Int, boundaries: [Int], descending: Bool) {
        let cuts = boundaries.filter { $0 > 0 && $0 < n }.sorted()
        guard !cuts.isEmpty else { return }
        if descending { Introsort<Descending>.select(pairs, n, cuts) } else { Introsort<Ascending>.select(pairs, n, cuts) }
    }
}

/// A strict weak order on floats, as torch's key comparators define it.
protocol TorchSortComparator {
    static func less(_ a: Float, _ b: Float) -> Bool
    /// Whether this is the descending order (for the C partition).
    static var descending: Bool { get }
}

/// torch's `KeyValueCompAsc`: a < b, NaN greater than everything.
enum Ascending: TorchSortComparator {
    @inline(__always) static func less(_ a: Float, _ b: Float) -> Bool { (!a.isNaN && b.isNaN) || a < b }
    static var descending: Bool { false }
}

/// torch's `KeyValueCompDesc`: a > b, NaN first.
enum Descending: TorchSortComparator {
    @inline(__always) static func less(_ a: Float, _ b: Float) -> Bool { (a.isNaN && !b.isNaN) || a > b }
    static var descending: Bool { true }
}

/// libstdc++'s introsort steps on `TorchSortOrder.Pair`, ordered by `C`.
enum Introsort<C: TorchSortComparator> {
    typealias Pair = TorchSortOrder.Pair
    static var threshold: Int { 16 }

    @inline(__always) static func less(_ a: Pair, _ b: Pair) -> Bool { C.less(a.value, b.value) }

    /// ⌊log₂ n⌋·2, the depth budget.
    static func depthLimit(_ n: Int) -> Int { 2 * (Int.bitWidth - 1 - n.leadingZeroBitCount) }

    /// The complete sort.
    static func sort(_ p: UnsafeMutablePointer<Pair>, _ n: Int) {
        guard n > 1 else { return }
        loop(p, 0, n, depthLimit(n), cuts: nil)
        insertionSort(p, 0, n)
    }

    /// Only the partitions that contain one of the sorted `cuts` strictly inside are refined.
    static func select(_ p: UnsafeMutablePointer<Pair>, _ n: Int, _ cuts: [Int]) {
        cuts.withUnsafeBufferPointer { c in loop(p, 0, n, depthLimit(n), cuts: c) }
    }

    /// Whether some cut c has first < c < last.
    @inline(__always) static func straddles(_ cuts: UnsafeBufferPointer<Int>?, _ first: Int, _ last: Int) -> Bool {
        guard let cuts else { return true }
        for c in cuts where c > first && c < last { return true }
        return false
    }

    /// `__introsort_loop`; with `cuts`, ranges no cut falls inside are left as they are, and a final
    /// short range is insertion-sorted on its own (the global final insertion sort never moves an
    /// element across the boundaries the partitions left).
    static func loop(_ p: UnsafeMutablePointer<Pair>, _ first: Int, _ last0: Int, _ depth0: Int, cuts: UnsafeBufferPointer<Int>?) {
        var last = last0, depth = depth0
        if !straddles(cuts, first, last) { return }
        while last - first > threshold {
            if depth == 0 {
                heapSort(p, first, last)
                return
            }
            depth -= 1
            let cut = partitionPivot(p, first, last)
            if straddles(cuts, cut, last) { loop(p, cut, last, depth, cuts: cuts) }
            last = cut
            if !straddles(cuts, first, last) { return }
        }
        if cuts != nil { insertionSort(p, first, last) }
    }

    /// `__unguarded_partition_pivot`.
    @inline(__always) static func partitionPivot(_ p: UnsafeMutablePointer<Pair>, _ first: Int, _ last: Int) -> Int {
        moveMedianToFirst(p, first, first + 1, first + (last - first) / 2, last - 1)
        return unguardedPartition(p, first + 1, last, first)
    }

    @inline(__always) static func swapAt(_ p: UnsafeMutablePointer<Pair>, _ i: Int, _ j: Int) {
        let t = p[i]; p[i] = p[j]; p[j] = t
    }

    /// `__move_median_to_first`.
    @inline(__always) static func moveMedianToFirst(_ p: UnsafeMutablePointer<Pair>, _ result: Int, _ a: Int, _ b: Int, _ c: Int) {
        if less(p[a], p[b]) {
            if less(p[b], p[c]) { swapAt(p, result, b) } else if less(p[a], p[c]) { swapAt(p, result, c) } else { swapAt(p, result, a) }
        } else if less(p[a], p[c]) {
            swapAt(p, result, a)
        } else if less(p[b], p[c]) {
            swapAt(p, result, c)
        } else {
            swapAt(p, result, b)
        }
    }

    /// `__unguarded_partition` around the element at `pivot` (which lies before `first`): the same
    /// swaps, found in blocks (`blockPartition`) for long ranges.
    @inline(__always) static func unguardedPartition(_ p: UnsafeMutablePointer<Pair>, _ first0: Int, _ last0: Int, _ pivot: Int) -> Int {
        last0 - first0 < 256 ? scalarPartition(p, first0, last0, pivot) : blockPartition(p, first0, last0, pivot)
    }

    /// `__unguarded_partition` as libstdc++ writes it.
    static func scalarPartition(_ p: UnsafeMutablePointer<Pair>, _ first0: Int, _ last0: Int, _ pivot: Int) -> Int {
        var first = first0, last = last0
        let v = p[pivot].value
        while true {
            while C.less(p[first].value, v) { first += 1 }
            last -= 1
            while C.less(v, p[last].value) { last -= 1 }
            if !(first < last) { return first }
            swapAt(p, first, last)
            first += 1
        }
    }

    /// Ranges at least this long are partitioned by all threads (`TorchPartition.parallelPartition`).
    static var parallelLength: Int { 1 << 22 }

    /// `__unguarded_partition`'s result with its stops found a block at a time (`TorchPartition`, C):
    /// the same swaps and cut as `scalarPartition` (checked on random arrays full of ties and NaN in
    /// `TorchSortOrderTests`, at every SIMD level).
    static func blockPartition(_ p: UnsafeMutablePointer<Pair>, _ first0: Int, _ last0: Int, _ pivot: Int) -> Int {
        if last0 - first0 >= parallelLength && Parallel.threadCount > 1 {
            return TorchPartition.parallelPartition(p, first: first0, last: last0, pivot: p[pivot].value, descending: C.descending)
        }
        return TorchPartition.partition(p, first: first0, last: last0, pivot: p[pivot].value, descending: C.descending)
    }

    /// `__insertion_sort` (stable: an element moves only past strictly greater ones).
    static func insertionSort(_ p: UnsafeMutablePointer<Pair>, _ first: Int, _ last: Int) {
        guard last - first > 1 else { return }
        for i in (first + 1)..<last {
            let v = p[i]
            var j = i
            while j > first && less(v, p[j - 1]) { p[j] = p[j - 1]; j -= 1 }
            p[j] = v
        }
    }

    /// `__partial_sort(first, last, last)`: `__make_heap` then `__sort_heap`.
    static func heapSort(_ p: UnsafeMutablePointer<Pair>, _ first: Int, _ last0: Int) {
        let len = last0 - first
        guard len > 1 else { return }
        let base = p + first
        var parent = (len - 2) / 2
        while true {
            adjustHeap(base, parent, len, base[parent])
            if parent == 0 { break }
            parent -= 1
        }
        var last = len
        while last > 1 {
            last -= 1
            let v = base[last]
            base[last] = base[0]
            adjustHeap(base, 0, last, v)
        }
    }

    /// `__adjust_heap`: the hole sinks to a leaf along the larger children, then `__push_heap` lifts `value`.
    static func adjustHeap(_ base: UnsafeMutablePointer<Pair>, _ hole0: Int, _ len: Int, _ value: Pair) {
        let top = hole0
        var hole = hole0, second = hole0
        while second < (len - 1) / 2 {
            second = 2 * (second + 1)
            if less(base[second], base[second - 1]) { second -= 1 }
            base[hole] = base[second]
            hole = second
        }
        if len & 1 == 0 && second == (len - 2) / 2 {
            second = 2 * (second + 1)
            base[hole] = base[second - 1]
            hole = second - 1
        }
        var parent = (hole - 1) / 2
        while hole > top && less(base[parent], value) {
            base[hole] = base[parent]
            hole = parent
            parent = (hole - 1) / 2
        }
        base[hole] = value
    }
}
