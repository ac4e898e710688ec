// Task arithmetic on bfloat16 tensors, fused with the rounding of the result: plain, and with
// magnitude-selected deltas and the TIES sign consensus; see include/lep_kernels.h.
//
// One body, compiled three times (AVX-512, AVX2, portable) and chosen by lep_simd_level: the loops
// are plain C that the compiler vectorises. Contraction is off so that (x − b)·w + m stays a
// product then a sum, each rounded, as the Swift merge path computes it.
#include "lep_kernels.h"

#include <math.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

enum { TILE = 2048 };

static inline __attribute__((always_inline)) float widen(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// y = b + mixed for n elements: stored as float32 (`wide`) or rounded to bfloat16; returns how many y
// are NaN or infinite.
static inline __attribute__((always_inline)) unsigned finish(const uint16_t *b, const float *mixed, size_t n,
                                                             uint16_t *out, float *out_f32, int wide) {
    unsigned nonfinite = 0;
    for (size_t j = 0; j < n; j++) {
        float v = widen(b[j]) + mixed[j];
        uint32_t u;
        memcpy(&u, &v, 4);
        nonfinite += (u & 0x7F800000u) == 0x7F800000u;
        if (wide) {
            out_f32[j] = v;
        } else {
            uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
            uint32_t quiet = ((u >> 16) | 0x40u) & 0xFFFFu;
            out[j] = (uint16_t)((u & 0x7FFFFFFFu) > 0x7F800000u ? quiet : rounded);
        }
    }
    return nonfinite;
}

static inline __attribute__((always_inline)) size_t task_arithmetic_body(
    const uint16_t *base, const uint16_t *const *inputs, const float *weights, size_t n_inputs, size_t offset,
    size_t count, int normalize, float divisor, float lambda, uint16_t *out, float *out_f32) {
    size_t bad = 0;
    float mixed[TILE];
    for (size_t t0 = 0; t0 < count; t0 += TILE) {
        size_t n = count - t0 < TILE ? count - t0 : TILE;
        const uint16_t *b = base + offset + t0;
        for (size_t j = 0; j < n; j++) mixed[j] = 0.0f;
        for (size_t i = 0; i < n_inputs; i++) {
            const uint16_t *x = inputs[i] + offset + t0;
            float w = weights[i];
            for (size_t j = 0; j < n; j++) {
                float d = widen(x[j]) - widen(b[j]);
                float p = d * w;
                mixed[j] = mixed[j] + p;
            }
        }
        if (normalize)
            for (size_t j = 0; j < n; j++) mixed[j] = mixed[j] / divisor;
        if (lambda != 1.0f)
            for (size_t j = 0; j < n; j++) mixed[j] = mixed[j] * lambda;
        // The output test is a constant inside each call, so each loop is compiled on its own.
        bad += out_f32 ? finish(b, mixed, n, NULL, out_f32 + t0, 1) : finish(b, mixed, n, out + t0, NULL, 0);
    }
    return bad;
}

// δ_j: d[j] when the deltas are given as float32, else x_j − b_j from bfloat16 (d is a constant NULL or
// non-NULL at every inlined call, so the test folds away).
static inline __attribute__((always_inline)) float delta_at(const float *d, const uint16_t *x, const uint16_t *b,
                                                            size_t j) {
    return d ? d[j] : widen(x[j]) - widen(b[j]);
}

// u[j] = (kept ? δ_j : 0) · w for the elements [first, first + n) of one input, by its kept set; δ from
// `d` or from x − b (delta_at). u may be d: each group is read before it is written.
static inline __attribute__((always_inline)) void sparse_delta(const float *d, const uint16_t *x, const uint16_t *b,
                                                               float w, const lep_kept_set *kept, size_t first,
                                                               size_t n, float *u) {
    if (kept->rule == LEP_KEEP_NONE) {
        for (size_t j = 0; j < n; j++) u[j] = 0.0f * w;
        return;
    }
    if (kept->rule == LEP_KEEP_ALL) {
        for (size_t j = 0; j < n; j++) u[j] = delta_at(d, x, b, j) * w;
        return;
    }
    float t = kept->threshold;
    const uint64_t *ties = kept->ties;
    if (t != t) {  // only NaNs kept: those whose bit is set
        for (size_t j = 0; j < n; j++) {
            float dj = delta_at(d, x, b, j);
            size_t i = first + j;
            int keep = dj != dj && ((ties[i >> 6] >> (i & 63)) & 1);
            u[j] = (keep ? dj : 0.0f) * w;
        }
        return;
    }
    // Before T (larger, or NaN) kept, after it dropped (branch-free); in a group of 64 holding a value
    // equal to T (rare), those are fixed up after.
    for (size_t g = 0; g < n; g += 64) {
        size_t m = n - g < 64 ? n - g : 64;
        float dg[64];
        for (size_t j = 0; j < m; j++) dg[j] = delta_at(d, x, b, g + j);
        int equal = 0;
        for (size_t j = 0; j < m; j++) {
            float a = fabsf(dg[j]);
            int keep = a > t || a != a;
            equal |= a == t;
            u[g + j] = (keep ? dg[j] : 0.0f) * w;
        }
        if (!equal) continue;
        for (size_t j = 0; j < m; j++) {
            if (fabsf(dg[j]) != t) continue;
            size_t i = first + g + j;
            u[g + j] = (((ties[i >> 6] >> (i & 63)) & 1) ? dg[j] : 0.0f) * w;
        }
    }
}

static inline __attribute__((always_inline)) size_t sparse_body(
    const uint16_t *base, const uint16_t *const *inputs, const float *weights, const lep_kept_set *kept,
    size_t n_inputs, size_t offset, size_t count, int consensus, int normalize, float plain_divisor, float lambda,
    uint16_t *out, float *out_f32) {
    size_t bad = 0;
    float sum[TILE], mixed[TILE], divisor[TILE], u[TILE];
    for (size_t t0 = 0; t0 < count; t0 += TILE) {
        size_t n = count - t0 < TILE ? count - t0 : TILE;
        const uint16_t *b = base + offset + t0;
        for (size_t j = 0; j < n; j++) sum[j] = 0.0f;
        for (size_t i = 0; i < n_inputs; i++) {
            sparse_delta(NULL, inputs[i] + offset + t0, b, weights[i], kept + i, offset + t0, n, u);
            for (size_t j = 0; j < n; j++) sum[j] = sum[j] + u[j];
        }
        if (consensus) {
            // The sign of the sum elects; a delta counts where it is non-zero and agrees (u is
            // computed again rather than kept for every input).
            for (size_t j = 0; j < n; j++) mixed[j] = divisor[j] = 0.0f;
            for (size_t i = 0; i < n_inputs; i++) {
                float w = weights[i];
                sparse_delta(NULL, inputs[i] + offset + t0, b, w, kept + i, offset + t0, n, u);
                for (size_t j = 0; j < n; j++) {
                    int agrees = u[j] != 0.0f && ((u[j] > 0.0f) == (sum[j] >= 0.0f));
                    mixed[j] = mixed[j] + (agrees ? u[j] : 0.0f);
                    divisor[j] = divisor[j] + (agrees ? w : 0.0f);
                }
            }
            for (size_t j = 0; j < n; j++) divisor[j] = divisor[j] == 0.0f ? 1.0f : divisor[j];
        } else {
            for (size_t j = 0; j < n; j++) {
                mixed[j] = sum[j];
                divisor[j] = plain_divisor;
            }
        }
        if (normalize)
            for (size_t j = 0; j < n; j++) mixed[j] = mixed[j] / divisor[j];
        if (lambda != 1.0f)
            for (size_t j = 0; j < n; j++) mixed[j] = mixed[j] * lambda;
        bad += out_f32 ? finish(b, mixed, n, NULL, out_f32 + t0, 1) : finish(b, mixed, n, out + t0, NULL, 0);
    }
    return bad;
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c"))) static size_t sparse_512(
    const uint16_t *base, const uint16_t *const *inputs, const float *weights, const lep_kept_set *kept,
    size_t n_inputs, size_t offset, size_t count, int consensus, int normalize, float plain_divisor, float lambda,
    uint16_t *out, float *out_f32) {
    return sparse_body(base, inputs, weights, kept, n_inputs, offset, count, consensus, normalize, plain_divisor,
                       lambda, out, out_f32);
}

__attribute__((target("avx2,fma,f16c"))) static size_t sparse_avx2(
    const uint16_t *base, const uint16_t *const *inputs, const float *weights, const lep_kept_set *kept,
    size_t n_inputs, size_t offset, size_t count, int consensus, int normalize, float plain_divisor, float lambda,
    uint16_t *out, float *out_f32) {
    return sparse_body(base, inputs, weights, kept, n_inputs, offset, count, consensus, normalize, plain_divisor,
                       lambda, out, out_f32);
}
#endif

static size_t sparse_portable(const uint16_t *base, const uint16_t *const *inputs, const float *weights,
                              const lep_kept_set *kept, size_t n_inputs, size_t offset, size_t count, int consensus,
                              int normalize, float plain_divisor, float lambda, uint16_t *out, float *out_f32) {
    return sparse_body(base, inputs, weights, kept, n_inputs, offset, count, consensus, normalize, plain_divisor,
                       lambda, out, out_f32);
}

size_t lep_sparse_task_arithmetic_bf16(const uint16_t *base, const uint16_t *const *inputs, const float *weights,
                                       const lep_kept_set *kept, size_t n_inputs, size_t offset, size_t count,
                                       int consensus, int normalize, float plain_divisor, float lambda, uint16_t *out,
                                       float *out_f32) {
#if defined(__x86_64__)
    switch (lep_simd_level()) {
    case LEP_SIMD_AVX512:
        return sparse_512(base, inputs, weights, kept, n_inputs, offset, count, consensus, normalize, plain_divisor,
                          lambda, out, out_f32);
    case LEP_SIMD_AVX2:
        return sparse_avx2(base, inputs, weights, kept, n_inputs, offset, count, consensus, normalize, plain_divisor,
                           lambda, out, out_f32);
    }
#endif
    return sparse_portable(base, inputs, weights, kept, n_inputs, offset, count, consensus, normalize, plain_divisor,
                           lambda, out, out_f32);
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c"))) static size_t task_arithmetic_512(
    const uint16_t *base, const uint16_t *const *inputs, const float *weights, size_t n_inputs, size_t offset,
    size_t count, int normalize, float divisor, float lambda, uint16_t *out, float *out_f32) {
    return task_arithmetic_body(base, inputs, weights, n_inputs, offset, count, normalize, divisor, lambda, out, out_f32);
}

__attribute__((target("avx2,fma,f16c"))) static size_t task_arithmetic_avx2(
    const uint16_t *base, const uint16_t *const *inputs, const float *weights, size_t n_inputs, size_t offset,
    size_t count, int normalize, float divisor, float lambda, uint16_t *out, float *out_f32) {
    return task_arithmetic_body(base, inputs, weights, n_inputs, offset, count, normalize, divisor, lambda, out, out_f32);
}
#endif

static size_t task_arithmetic_portable(
    const uint16_t *base, const uint16_t *const *inputs, const float *weights, size_t n_inputs, size_t offset,
    size_t count, int normalize, float divisor, float lambda, uint16_t *out, float *out_f32) {
    return task_arithmetic_body(base, inputs, weights, n_inputs, offset, count, normalize, divisor, lambda, out, out_f32);
}

size_t lep_task_arithmetic_bf16(const uint16_t *base, const uint16_t *const *inputs, const float *weights,
                                size_t n_inputs, size_t offset, size_t count, int normalize, float divisor,
                                float lambda, uint16_t *out, float *out_f32) {
#if defined(__x86_64__)
    switch (lep_simd_level()) {
    case LEP_SIMD_AVX512:
        return task_arithmetic_512(base, inputs, weights, n_inputs, offset, count, normalize, divisor, lambda, out, out_f32);
    case LEP_SIMD_AVX2:
        return task_arithmetic_avx2(base, inputs, weights, n_inputs, offset, count, normalize, divisor, lambda, out, out_f32);
    }
#endif
    return task_arithmetic_portable(base, inputs, weights, n_inputs, offset, count, normalize, divisor, lambda, out, out_f32);
}

// lep_weigh_kept: sparse_delta over float32 deltas.
#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c"))) static void weigh_512(
    const float *d, size_t n, float w, const lep_kept_set *kept, size_t first, float *u) {
    sparse_delta(d, NULL, NULL, w, kept, first, n, u);
}
#endif

void lep_weigh_kept(const float *d, size_t n, float w, const lep_kept_set *kept, size_t first, float *u) {
    if (!d) return;
#if defined(__x86_64__)
    if (lep_simd_level() == LEP_SIMD_AVX512) {
        weigh_512(d, n, w, kept, first, u);
        return;
    }
#endif
    sparse_delta(d, NULL, NULL, w, kept, first, n, u);
}
