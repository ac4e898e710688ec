// Persistent worker threads for short parallel regions (see include/lep_kernels.h, lep_pool_run).
//
// A region is published by bumping `generation`; a worker that has finished one region polls the
// generation for a short while (PAUSE instructions, ~0.02 ms) before sleeping on a futex, so
// back-to-back regions (the forward pass runs ~10 per layer) start on a warm thread without a
// wake-up. The participants' indices are claimed from `claims` (generation and next index in one
// word) by whichever thread comes first, the caller included: a worker that is late (asleep, or
// preempted by another program on a busy machine) is never waited for unless it has claimed one.
// The caller then waits for the claimed ones to finish, polling ~0.01 ms, then sleeping until the
// last one wakes it. One region at a time: a caller that finds the pool busy (another thread's region,
// or a region started from inside a region) gets 0 and runs the region some other way.
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
static _Atomic uint64_t claims;     // generation << 32 | participants claimed so far in it
static _Atomic unsigned finished;   // participants of the current region that have returned
static _Atomic int caller_sleeping; // the caller waits on `finished`'s futex
static size_t workers;              // started so far (never stopped)
static lep_pool_fn job_fn;
static void *job_ctx;
static _Atomic unsigned job_participants;
static unsigned start_generation[MAX_WORKERS + 1];  // the generation each worker was started at

static void futex(_Atomic unsigned *addr, int op, unsigned value) {
    syscall(SYS_futex, (unsigned *)addr, op | FUTEX_PRIVATE_FLAG, value, NULL, NULL, 0);
}

// Runs unclaimed participants of region `g` until none is left; returns how many this thread ran.
static unsigned take_part(unsigned g) {
    unsigned ran = 0;
    uint64_t c = atomic_load(&claims);
    while ((unsigned)(c >> 32) == g && (unsigned)c < job_participants) {
        if (!atomic_compare_exchange_weak(&claims, &c, c + 1)) continue;
        job_fn(job_ctx, (unsigned)c);
        ran++;
        if (atomic_fetch_add(&finished, 1) + 1 == job_participants && atomic_load(&caller_sleeping))
            futex(&finished, FUTEX_WAKE, 1);
        c = atomic_load(&claims);
    }
    return ran;
}

static void *worker_main(void *arg) {
    unsigned seen = start_generation[(size_t)arg];  // written before pthread_create
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
        take_part(g);  // nothing when the caller (or another worker) has claimed them all
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
    // The previous region is over (all its participants claimed and finished). A worker still in it
    // may try to claim one more; `claims` moves to the new generation first, so that claim fails
    // whatever it reads of the new job.
    unsigned g = atomic_load(&generation) + 1;
    atomic_store(&claims, (uint64_t)g << 32);
    job_fn = fn;
    job_ctx = ctx;
    job_participants = (unsigned)participants;
    atomic_store(&finished, 0);
    atomic_store(&generation, g);  // publishes the job (sequentially consistent, as is `sleepers`)
    if (atomic_load(&sleepers) > 0) futex(&generation, FUTEX_WAKE, INT_MAX);
    take_part(g);
    unsigned done;
    for (int spins = 0; (done = atomic_load(&finished)) != job_participants;) {
        if (spins++ < CALLER_SPINS) {
            CPU_PAUSE();
            continue;
        }
        atomic_store(&caller_sleeping, 1);
        if ((done = atomic_load(&finished)) != job_participants) futex(&finished, FUTEX_WAIT, done);
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
