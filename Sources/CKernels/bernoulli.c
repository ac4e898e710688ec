// The keep mask of random (DARE) sparsification; see include/lep_kernels.h. The draw is lep's
// counter-based SplitMix64 (Merging's Kernels.uniform), written once as plain C that the compiler
// vectorises (64-bit multiplies with AVX-512).
#include "lep_kernels.h"

static inline __attribute__((always_inline)) uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline __attribute__((always_inline)) void mask_body(uint8_t *keep, size_t count, uint64_t seed, size_t first,
                                                            float p) {
    for (size_t j = 0; j < count; j++) {
        uint64_t k = (uint64_t)(first + j);
        float u = (float)(mix(seed + k * 0x9E3779B97F4A7C15ull) >> 40) * 0x1p-24f;
        keep[j] = u < p;
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2"))) static void mask_512(uint8_t *keep, size_t count,
                                                                                     uint64_t seed, size_t first,
                                                                                     float p) {
    mask_body(keep, count, seed, first, p);
}
#endif

void lep_bernoulli_mask(uint8_t *keep, size_t count, uint64_t seed, size_t first, float p) {
#if defined(__x86_64__)
    if (lep_simd_level() == LEP_SIMD_AVX512) {
        mask_512(keep, count, seed, first, p);
        return;
    }
#endif
    mask_body(keep, count, seed, first, p);
}
