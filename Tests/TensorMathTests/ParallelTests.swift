#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TensorMath

@Suite struct ParallelTests {
    @Test(arguments: [0, 1, 17, 65_536, 1_000_003])
    func chunksCoverTheRangeExactlyOnce(_ n: Int) {
        let counter = AtomicCounter()
        let seen = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, 1))
        seen.initialize(repeating: 0, count: max(n, 1))
        defer { seen.deallocate() }
        let box = UncheckedSendable(seen)
        Parallel.forChunks(count: n, minChunk: 1000) { r in
            for i in r { box.value[i] &+= 1 }
            counter.add(r.count)
        }
        #expect(counter.value == n)
        #expect((0..<n).allSatisfy { seen[$0] == 1 })
    }
}

extension ParallelTests {
    /// `rounds` regions of `count` claimed items, one after another; whether each ran every item once
    /// (`nested`: item 0 runs a region of its own, which goes to Dispatch).
    static func regions(_ rounds: Int, count: Int, nested: Bool) -> Bool {
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
        defer { hits.deallocate() }
        let box = UncheckedSendable(hits)
        for round in 0..<rounds {
            hits.initialize(repeating: 0, count: count)
            Parallel.forEachClaimed(count: count) { i in
                if nested && i == 0 {
                    let inner = AtomicCounter()
                    Parallel.forEachClaimed(count: 3) { _ in inner.add(1) }
                    if inner.value != 3 { box.value[i] += 100 }
                }
                box.value[i] += 1
            }
            if !(0..<count).allSatisfy({ hits[$0] == 1 }) { return false }
            if round % 500 == 0 { usleep(200) }  // the pool's workers go to sleep now and then
        }
        return true
    }

    @Test("back-to-back, nested and concurrent regions (pool and Dispatch) run every item exactly once")
    func regionsRunEveryItemOnce() async {
        #expect(Self.regions(5000, count: 7, nested: false))
        #expect(Self.regions(200, count: 5, nested: true))
        // Four callers at once: one gets the pool, the others Dispatch.
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 { group.addTask { Self.regions(500, count: 9, nested: false) } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == [true, true, true, true])
    }
}
