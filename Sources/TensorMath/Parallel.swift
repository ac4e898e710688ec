import CKernels
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Data-parallel loops over index ranges.
package enum Parallel {
    /// Number of worker threads: the online CPU count (at least 1), or `LEP_THREADS` when set.
    package static let threadCount: Int = {
        if let env = getenv("LEP_THREADS"), let n = Int(String(cString: env)), n > 0 { return n }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }()

    /// Calls `body` on disjoint chunks covering `0..<count`, in parallel when the work is large enough.
    /// Chunks are at least `minChunk` long.
    package static func forChunks(count: Int, minChunk: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threadCount * 4, max(1, count / minChunk))
        if chunks <= 1 || threadCount == 1 { body(0..<count); return }
        let size = (count + chunks - 1) / chunks
        let next = Atomic<Int>(0)
        run(participants: min(threadCount, chunks)) { _ in
            while true {
                let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if c >= chunks { return }
                let lo = c * size
                let hi = min(count, lo + size)
                if lo < hi { body(lo..<hi) }
            }
        }
    }
}

extension Parallel {
    /// Calls `body(i)` for every i in `0..<count`, on `threadCount` threads that each take the next
    /// unclaimed index until none is left: for items of equal, sizeable cost (≥ ~100 µs), where fixed
    /// chunks would leave one thread waiting for another at the end (e.g. when the other was
    /// preempted on a shared machine).
    package static func forEachClaimed(count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        let workers = min(threadCount, count)
        if workers == 1 { for i in 0..<count { body(i) }; return }
        let next = Atomic<Int>(0)
        run(participants: workers) { _ in
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= count { return }
                body(i)
            }
        }
    }

    /// Calls `body(i)` once for every participant i in `0..<participants`, in parallel, this thread
    /// taking part (a participant that no other thread has started yet runs here: the bodies must not
    /// wait for each other): on the kernels' persistent threads (`lep_pool_run`: a region starts
    /// without waking a thread when regions follow each other closely, as in the forward pass), or on
    /// Dispatch's when those are busy (a region running on another thread, or one started inside a region).
    private static func run(participants: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            var region = escapable
            let pooled = withUnsafeMutablePointer(to: &region) { p in
                lep_pool_run(participants, { ctx, i in ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(i) }, p)
            }
            if pooled == 0 {
                let box = UncheckedSendable(escapable)
                DispatchQueue.concurrentPerform(iterations: participants) { box.value($0) }
            }
        }
    }
}

/// Carries a value across a concurrency boundary whose safety the caller guarantees (disjoint
/// chunks of one buffer in `Parallel.forChunks`).
package struct UncheckedSendable<T>: @unchecked Sendable {
    package let value: T
    package init(_ value: T) { self.value = value }
}
