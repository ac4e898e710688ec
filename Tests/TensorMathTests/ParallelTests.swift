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
