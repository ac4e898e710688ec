import CKernels
import Dispatch

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
    /// is NaN). Both passes are split between the threads.
    package static func keptThreshold(_ pairs: UnsafePointer<Pair>, kept: Int, bits: UnsafeMutablePointer<UInt64>) -> Float {
        let parts = max(1, min(4 * Parallel.threadCount, kept >> 16))
        let size = (kept + parts - 1) / parts
        let box = UncheckedSendable(pairs), bitsBox = UncheckedSendable(bits)
        var mins = [(Float, Int)](repeating: (.infinity, 0), count: parts)
        mins.withUnsafeMutableBufferPointer { m in
            let out = UncheckedSendable(m)
            DispatchQueue.concurrentPerform(iterations: parts) { i in
                let lo = min(kept, i * size), hi = min(kept, lo + size)
                var numbers = 0
                let t = lep_kept_min(box.value + lo, hi - lo, &numbers)
                out.value[i] = (t, numbers)
            }
        }
        var t = Float.infinity, numbers = 0
        for (m, c) in mins {
            t = m < t ? m : t
            numbers += c
        }
        if numbers == 0 { t = .nan }
        let threshold = t
        DispatchQueue.concurrentPerform(iterations: parts) { i in
            let lo = min(kept, i * size), hi = min(kept, lo + size)
            lep_mark_ties(box.value + lo, hi - lo, threshold, bitsBox.value)
        }
        return threshold
    }
}

extension TorchPartition {
    /// `partition` with its work split between `Parallel.threadCount` threads (for long ranges): the
    /// stops are counted per block in parallel, the number of swaps K and the cut follow from the
    /// counts (see `lep_count_stops`), and the K swaps run in parallel runs of consecutive swaps, which
    /// touch disjoint positions. Same swaps and cut as `partition`.
    package static func parallelPartition(_ p: UnsafeMutablePointer<Pair>, first: Int, last: Int, pivot v: Float, descending: Bool) -> Int {
        let n = last - first, threads = Parallel.threadCount
        let desc: Int32 = descending ? 1 : 0
        let blocks = max(4 * threads, n >> 16)  // 64 Ki pairs: the serial lookups below scan at most one
        let size = (n + blocks - 1) / blocks
        @Sendable func bounds(_ b: Int) -> (Int, Int) { (first + min(n, b * size), first + min(n, (b + 1) * size)) }
        var counts = [(Int, Int)](repeating: (0, 0), count: blocks)
        let box = UncheckedSendable(p)
        counts.withUnsafeMutableBufferPointer { c in
            let out = UncheckedSendable(c)
            DispatchQueue.concurrentPerform(iterations: blocks) { b in
                let (lo, hi) = bounds(b)
                var l = 0, r = 0
                lep_count_stops(box.value, lo, hi, v, desc, &l, &r)
                out.value[b] = (l, r)
            }
        }
        // before[b]: left stops in blocks < b; from[b]: right stops in blocks ≥ b.
        var before = [Int](repeating: 0, count: blocks + 1), from = [Int](repeating: 0, count: blocks + 1)
        for b in 0..<blocks { before[b + 1] = before[b] + counts[b].0 }
        for b in stride(from: blocks - 1, through: 0, by: -1) { from[b] = from[b + 1] + counts[b].1 }
        // K = max over positions of min(left stops before, right stops at or after): at the block
        // boundaries, and inside the block where the first overtakes the second.
        var k = 0
        for b in 0...blocks { k = max(k, min(before[b], from[b])) }
        if let j = (0..<blocks).first(where: { before[$0 + 1] >= from[$0 + 1] }) {
            let (lo, hi) = bounds(j)
            k = max(k, lep_stops_crossing(p, lo, hi, before[j], from[j], v, desc))
        }
        // The i-th (1-based) left stop from the start and right stop from the end, in the array as it is.
        func left(_ i: Int) -> Int? {
            guard i >= 1, i <= before[blocks], let b = (0..<blocks).first(where: { before[$0 + 1] >= i }) else { return nil }
            let (lo, hi) = bounds(b)
            let at = lep_nth_stop(p, lo, hi, i - before[b] - 1, v, desc, 0)
            return at >= 0 ? at : nil
        }
        func right(_ i: Int) -> Int? {
            guard i >= 1, i <= from[0], let b = (0..<blocks).last(where: { from[$0] >= i }) else { return nil }
            let (lo, hi) = bounds(b)
            let at = lep_nth_stop(p, lo, hi, i - from[b + 1] - 1, v, desc, 1)
            return at >= 0 ? at : nil
        }
        guard k > 0, let lastRight = right(k) else { return left(1) ?? last }
        let cut = min(left(k + 1) ?? lastRight, lastRight)
        // Runs of consecutive swaps, each with where it starts and how far it may scan.
        let parts = min(k, 4 * threads)
        var runs: [(l: Int, lEnd: Int, r: Int, rEnd: Int, count: Int)] = []
        for t in 0..<parts {
            let s = k * t / parts, e = k * (t + 1) / parts
            guard e > s, let l = left(s + 1), let r = right(s + 1) else { continue }
            let lEnd = t == parts - 1 ? (left(k) ?? l) + 1 : left(e + 1) ?? last
            let rEnd = t == parts - 1 ? lastRight - 1 : right(e + 1) ?? first - 1
            runs.append((l, lEnd, r, rEnd, e - s))
        }
        runs.withUnsafeBufferPointer { rs in
            let rbox = UncheckedSendable(rs)
            DispatchQueue.concurrentPerform(iterations: rs.count) { i in
                let run = rbox.value[i]
                lep_swap_stops(box.value, run.l, run.lEnd, run.r, run.rEnd, run.count, v, desc)
            }
        }
        return cut
    }
}
