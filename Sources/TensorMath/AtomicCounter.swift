#if canImport(Glibc)
import Glibc
#endif

/// A mutex-protected integer sum for parallel reductions.
package final class AtomicCounter: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var total = 0

    /// A counter at zero.
    package init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }

    /// Adds `n`.
    package func add(_ n: Int) {
        pthread_mutex_lock(&lock); total += n; pthread_mutex_unlock(&lock)
    }

    /// The current sum.
    package var value: Int {
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        return total
    }
}
