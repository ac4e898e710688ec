import Dispatch
import Synchronization

/// A bounded queue of output byte blocks between the thread that computes a merge and the thread
/// that writes it: `depth` fixed buffers of `blockBytes` each, so memory stays bounded whatever the
/// tensor sizes, and computing block i + 1 overlaps with writing block i.
///
/// The producer `acquire`s a free block, fills it and `submit`s it; the writer takes blocks in order
/// with `next` and gives each back with `release`. `close` ends the stream (the writer's `next` then
/// returns nil once the queue is drained); `fail` tells the producer the writer stopped (its
/// `acquire` returns nil).
final class OutputPipe: @unchecked Sendable {
    /// One buffer: where to write, and how many bytes it holds once submitted.
    struct Block {
        let slot: Int
        let bytes: UnsafeMutableRawPointer
        var count: Int
    }

    private struct State {
        var free: [Int]
        var ready: [(slot: Int, count: Int)] = []
        var readIndex = 0
        var closed = false
        var failed = false
    }

    /// Capacity of each block in bytes.
    let blockBytes: Int
    private let buffers: [UnsafeMutableRawPointer]
    private let state: Mutex<State>
    private let freeCount: DispatchSemaphore
    private let readyCount = DispatchSemaphore(value: 0)

    init(blockBytes: Int, depth: Int) {
        self.blockBytes = blockBytes
        buffers = (0..<depth).map { _ in UnsafeMutableRawPointer.allocate(byteCount: blockBytes, alignment: 64) }
        state = Mutex(State(free: Array(0..<depth)))
        freeCount = DispatchSemaphore(value: depth)
    }

    deinit { for b in buffers { b.deallocate() } }

    /// A free block to fill (waits for the writer to return one); nil once the writer failed.
    func acquire() -> Block? {
        if state.withLock({ $0.failed }) { return nil }
        freeCount.wait()
        let slot: Int? = state.withLock { s in s.failed ? nil : s.free.removeLast() }
        guard let slot else { return nil }
        return Block(slot: slot, bytes: buffers[slot], count: 0)
    }

    /// Queues a filled block for the writer.
    func submit(_ block: Block) {
        state.withLock { $0.ready.append((block.slot, block.count)) }
        readyCount.signal()
    }

    /// No more blocks will come.
    func close() {
        state.withLock { $0.closed = true }
        readyCount.signal()
    }

    /// The next block in submission order (waits for one); nil when the stream is closed and drained.
    func next() -> Block? {
        readyCount.wait()
        let item: (slot: Int, count: Int)? = state.withLock { s in
            guard s.readIndex < s.ready.count else { return nil }
            defer { s.readIndex += 1 }
            return s.ready[s.readIndex]
        }
        guard let item else { return nil }
        return Block(slot: item.slot, bytes: buffers[item.slot], count: item.count)
    }

    /// Gives a written block back to the producer.
    func release(_ block: Block) {
        state.withLock { $0.free.append(block.slot) }
        freeCount.signal()
    }

    /// The writer stopped: wake the producer and refuse further blocks.
    func fail() {
        state.withLock { $0.failed = true }
        freeCount.signal()
    }
}
