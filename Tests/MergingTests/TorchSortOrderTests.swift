import SafeTensors
import SurgeryTestSupport
import TensorMath
import Testing
@testable import Merging

/// lep's model of torch's CPU sort order against torch itself: fixtures/merge/out/torch_sort.safetensors
/// holds arrays full of equal values (and NaN, and an input that drives introsort into its heap-sort
/// fallback) with the indices `torch.sort(stable=False)` / `torch.argsort` returned for them.
@Suite struct TorchSortOrderTests {
    static let path = Fix.merge + "/out/torch_sort.safetensors"

    static func ints(_ c: Checkpoint, _ name: String) throws -> [Int] {
        let v = try c.view(name)
        #expect(v.dtype == .I32)
        return (0..<v.elementCount).map { Int(Int32(littleEndian: v.bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
    }

    @Test func fullSortMatchesTorch() throws {
        let c = try Checkpoint(path: Self.path)
        var cases = 0
        while c.contains("case\(cases).values") {
            let values = try c.view("case\(cases).values").floats()
            for (descending, key) in [(false, "asc"), (true, "desc")] {
                let want = try Self.ints(c, "case\(cases).\(key)")
                let got = values.withUnsafeBufferPointer { TorchSortOrder.argsort($0, descending: descending) }
                #expect(got == want, "case\(cases) (\(values.count) values) \(key): first difference at \(zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1)")
            }
            cases += 1
        }
        #expect(cases >= 10, "fixture has \(cases) cases")
    }

    /// della ranks each row of a matrix on its own.
    @Test func rowSortMatchesTorch() throws {
        let c = try Checkpoint(path: Self.path)
        let v = try c.view("rows.values")
        let values = try v.floats(), want = try Self.ints(c, "rows.asc")
        let cols = v.shape[1]
        for r in 0..<v.shape[0] {
            let got = values[r * cols..<(r + 1) * cols].withUnsafeBufferPointer { TorchSortOrder.argsort($0, descending: false) }
            #expect(got == Array(want[r * cols..<(r + 1) * cols]), "row \(r)")
        }
    }

    /// Selection keeps, for every boundary, exactly the elements the full sort puts before it.
    @Test func selectionAgreesWithFullSort() throws {
        let c = try Checkpoint(path: Self.path)
        var i = 0
        while c.contains("case\(i).values") {
            let values = try c.view("case\(i).values").floats()
            let n = values.count
            for descending in [false, true] {
                let full = values.withUnsafeBufferPointer { TorchSortOrder.argsort($0, descending: descending) }
                for cuts in [[n / 3], [n / 10, n - n / 7], [1, n - 1]] {
                    var pairs = values.enumerated().map { TorchSortOrder.Pair(value: $0.element, index: UInt32($0.offset)) }
                    pairs.withUnsafeMutableBufferPointer { TorchSortOrder.select($0.baseAddress!, count: n, boundaries: cuts, descending: descending) }
                    var start = 0
                    for b in cuts.filter({ $0 > 0 && $0 < n }) + [n] {
                        #expect(Set(pairs[start..<b].map { Int($0.index) }) == Set(full[start..<b]), "case\(i) cuts \(cuts) descending \(descending)")
                        start = b
                    }
                }
            }
            i += 1
        }
    }

    /// The block partition (C, AVX-512 and portable, and split between threads) makes exactly the
    /// scalar partition's swaps and returns its index, on arrays full of ties (few distinct values) and
    /// NaN, for both orders, at every SIMD level this CPU has.
    @Test(arguments: [300, 257, 1000, 4099, 20_011, 100_003], ["portable", "avx512", "parallel"])
    func blockPartitionEqualsScalar(_ n: Int, _ mode: String) {
        let level = mode == "portable" ? 0 : 2
        let used = TensorMath.Kernels.limitSIMD(level)
        defer { TensorMath.Kernels.limitSIMD(2) }
        guard used == level else { return }  // this CPU lacks the level: the other argument covers it
        func block<C: TorchSortComparator>(_: C.Type, _ y: UnsafeMutablePointer<TorchSortOrder.Pair>) -> Int {
            if mode == "parallel" { return TorchPartition.parallelPartition(y, first: 1, last: n, pivot: y[0].value, descending: C.descending) }
            return Introsort<C>.blockPartition(y, 1, n, 0)
        }
        var state: UInt64 = UInt64(n)
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        for trial in 0..<40 {
            let distinct = [1, 2, 3, 7, 50, 100_000][trial % 6]
            let values: [Float] = (0..<n).map { _ in next() % 97 == 0 && trial % 3 == 0 ? .nan : Float(next() % UInt64(distinct)) }
            for descending in [false, true] {
                var a = values.enumerated().map { TorchSortOrder.Pair(value: $0.element, index: UInt32($0.offset)) }
                var b = a
                let (ra, rb): (Int, Int) = a.withUnsafeMutableBufferPointer { pa in
                    b.withUnsafeMutableBufferPointer { pb in
                        let x = pa.baseAddress!, y = pb.baseAddress!
                        if descending {
                            Introsort<Descending>.moveMedianToFirst(x, 0, 1, n / 2, n - 1)
                            Introsort<Descending>.moveMedianToFirst(y, 0, 1, n / 2, n - 1)
                            return (Introsort<Descending>.scalarPartition(x, 1, n, 0), block(Descending.self, y))
                        }
                        Introsort<Ascending>.moveMedianToFirst(x, 0, 1, n / 2, n - 1)
                        Introsort<Ascending>.moveMedianToFirst(y, 0, 1, n / 2, n - 1)
                        return (Introsort<Ascending>.scalarPartition(x, 1, n, 0), block(Ascending.self, y))
                    }
                }
                #expect(ra == rb, "n \(n) \(mode) trial \(trial) descending \(descending): cut \(rb), scalar \(ra)")
                #expect(a.map(\.index) == b.map(\.index), "n \(n) \(mode) trial \(trial) descending \(descending): arrangement differs")
            }
        }
    }

    /// Magnitude selection on tensors large enough for `Kernels.likelyTied`'s shortcut (few distinct
    /// values: the selection runs without the histogram test) and without it (distinct values: the
    /// radix thresholds decide) keeps exactly the elements torch's full sort puts in the kept positions.
    @Test(arguments: [3, 40, 0])
    func largeSelectionAgreesWithFullSort(_ distinct: Int) {
        let n = 70_001
        var state: UInt64 = UInt64(distinct)
        let values: [Float] = (0..<n).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            // distinct 0: every magnitude different (a permutation of 1...n, signs alternating).
            if distinct == 0 { return Float((i * 7919) % n + 1) * (i % 2 == 0 ? 1 : -1) }
            return (Float((state >> 33) % UInt64(distinct)) - Float(distinct / 2)) * 0.125
        }
        var probe = values
        #expect(probe.withUnsafeMutableBufferPointer { Kernels.likelyTied($0) } == (distinct != 0))
        for (keep, descending) in [(0..<n / 2, true), (n / 5..<n - n / 50, false)] {
            let order = values.map(abs).withUnsafeBufferPointer { TorchSortOrder.argsort($0, descending: descending) }
            let kept = Set(order[keep])
            var x = values
            x.withUnsafeMutableBufferPointer { Kernels.keepSorted($0, positions: keep, descending: descending) }
            let wrong = (0..<n).filter { (x[$0] != 0) != (kept.contains($0) && values[$0] != 0) || (x[$0] != 0 && x[$0] != values[$0]) }
            #expect(wrong.isEmpty, "distinct \(distinct) keep \(keep) descending \(descending): \(wrong.count) elements differ")
        }
    }
}
