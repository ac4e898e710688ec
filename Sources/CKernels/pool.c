// Persistent worker threads for short parallel regions (see include/lep_kernels.h, lep_pool_run).
//
// A region is published by bumping `generation`; a worker that has finished one region polls the
// generation for a short while (PAUSE instructions, ~0.02 ms) before sleeping on a futex, so
// back-to-back regions (the forward pass runs ~10 per layer) start on a warm thread without a
// wake-up. The caller takes part as participant 0 and polls until the workers report done, for
// ~0.01 ms, then sleeps until the last one wakes it (a worker preempted by another program's thread
// on a busy machine does not keep the caller's core spinning). One region at a time: a caller that finds
// the pool busy (another thread's region, or a region started from inside a region) gets 0 and runs
// the region some other way.
#include "lep_kernels.h"

#if defined(__linux__)
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define CPU_PAUSE() __asm__ __volatile__("yield")
#else
#define CPU_PAUSE() ((void)0)
#endif

enum { MAX_WORKERS = 255, WORKER_SPINS = 800, CALLER_SPINS = 400 };  // PAUSEs: ~25 ns each on Zen 4

static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;  // held by the caller during a region
static _Atomic unsigned generation;                               // bumped once per region
static _Atomic int sleepers;                                      // workers waiting on the futex
static _Atomic unsigned pending;                                  // workers not done with the region
static _Atomic int caller_sleeping;                               // the caller waits on `pending`'s futex
static size_t workers;                                            // started so far (never stopped)
static lep_pool_fn job_fn;
static void *job_ctx;
static size_t job_participants;
static unsigned start_generation[MAX_WORKERS + 1];  // the generation each worker was started at

static void futex(_Atomic unsigned *addr, int op, unsigned value) {
    syscall(SYS_futex, (unsigned *)addr, op | FUTEX_PRIVATE_FLAG, value, NULL, NULL, 0);
}

static void *worker_main(void *arg) {
    size_t index = (size_t)arg;  // participant index, 1...
    unsigned seen = start_generation[index];  // written before pthread_create
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            if (spins++ < WORKER_SPINS) {
                CPU_PAUSE();
                continue;
            }
            atomic_fetch_add(&sleepers, 1);
            if (atomic_load(&generation) == seen) futex(&generation, FUTEX_WAIT, seen);
            atomic_fetch_sub(&sleepers, 1);
        }
        seen = g;
        if (index < job_participants) job_fn(job_ctx, index);
        if (atomic_fetch_sub(&pending, 1) == 1 && atomic_load(&caller_sleeping)) futex(&pending, FUTEX_WAKE, 1);
    }
    return NULL;
}

int lep_pool_run(size_t participants, lep_pool_fn fn, void *ctx) {
    if (participants <= 1 || participants > MAX_WORKERS + 1) return 0;
    if (pthread_mutex_trylock(&region_lock) != 0) return 0;
    // Start the missing workers (they see the current generation as done).
    while (workers < participants - 1) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        start_generation[workers + 1] = atomic_load(&generation);
        int failed = pthread_create(&t, &attr, worker_main, (void *)(workers + 1));
        pthread_attr_destroy(&attr);
        if (failed) break;
        workers++;
    }
    if (workers < participants - 1) {
        pthread_mutex_unlock(&region_lock);
        return 0;
    }
    job_fn = fn;
    job_ctx = ctx;
    job_participants = participants;
    atomic_store_explicit(&pending, (unsigned)workers, memory_order_relaxed);
    atomic_fetch_add(&generation, 1);  // publishes the job (sequentially consistent, as is `sleepers`)
    if (atomic_load(&sleepers) > 0) futex(&generation, FUTEX_WAKE, INT_MAX);
    fn(ctx, 0);
    unsigned left;
    for (int spins = 0; (left = atomic_load_explicit(&pending, memory_order_acquire)) != 0;) {
        if (spins++ < CALLER_SPINS) {
            CPU_PAUSE();
            continue;
        }
        atomic_store(&caller_sleeping, 1);
        if ((left = atomic_load(&pending)) != 0) futex(&pending, FUTEX_WAIT, left);
        atomic_store(&caller_sleeping, 0);
    }
    pthread_mutex_unlock(&region_lock);
    return 1;
}

#else
int lep_pool_run(size_t participants, lep_pool_fn fn, void *ctx) {
    (void)participants;
    (void)fn;
    (void)ctx;
    return 0;
}
#endif
