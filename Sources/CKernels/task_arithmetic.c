// Plain task arithmetic on bfloat16 tensors, fused with the rounding of the result; see
// include/lep_kernels.h.
//
// One body, compiled three times (AVX-512, AVX2, portable) and chosen by lep_simd_level: the loops
// are plain C that the compiler vectorises. Contraction is off so that (x − b)·w + m stays a
// product then a sum, each rounded, as the Swift merge path computes it.
#include "lep_kernels.h"

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
