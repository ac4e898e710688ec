// Vector kernels of the forward pass; see include/lep_kernels.h.
//
// Each kernel has a portable C version and, on x86-64, AVX2 and AVX-512 versions compiled with
// per-function target attributes, chosen once from the CPU's features (lep_simd_limit lowers the
// choice for tests). The exponential is Cephes' single-precision expf scheme (range reduction by
// ln 2 in two parts, degree-6 polynomial), within 2 ulp of the correctly rounded result.
#include "lep_kernels.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define LEP_X86 1
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))
#endif

// ---- scalar element access ----

static inline float bf16_to_float(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float f16_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, u;
    if (exponent == 0x1F) {
        u = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent == 0) {
        float m = (float)mantissa * 0x1p-24f;  // zero or subnormal
        return sign ? -m : m;
    } else {
        u = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float load_scalar(const void *w, size_t i, int type) {
    const unsigned char *p = (const unsigned char *)w;
    if (type == LEP_F32) {
        float f;
        memcpy(&f, p + 4 * i, 4);
        return f;
    }
    uint16_t b;
    memcpy(&b, p + 2 * i, 2);
    return type == LEP_BF16 ? bf16_to_float(b) : f16_to_float(b);
}

// ---- portable versions ----

static void linear_scalar(const float *x, size_t rows, size_t ldx, const void *w, int type, size_t in,
                          size_t o0, size_t o1, float *y, size_t ldy, int acc) {
    for (size_t o = o0; o < o1; o++) {
        for (size_t t = 0; t < rows; t++) {
            const float *xr = x + t * ldx;
            float s = 0;
            for (size_t i = 0; i < in; i++) s += xr[i] * load_scalar(w, o * in + i, type);
            y[t * ldy + o] = acc ? y[t * ldy + o] + s : s;
        }
    }
}

static float exp_scalar(float x) { return expf(x); }

static void softmax_scalar(float *x, size_t n) {
    float m = -INFINITY, sum = 0;
    for (size_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    for (size_t i = 0; i < n; i++) {
        x[i] = exp_scalar(x[i] - m);
        sum += x[i];
    }
    float inv = 1 / sum;
    for (size_t i = 0; i < n; i++) x[i] *= inv;
}

static void rmsnorm_scalar(const float *x, const float *w, float eps, size_t n, float *y) {
    float sum = 0;
    for (size_t i = 0; i < n; i++) sum += x[i] * x[i];
    float inv = 1 / sqrtf(sum / (float)n + eps);
    for (size_t i = 0; i < n; i++) y[i] = w[i] * (x[i] * inv);
}

static void swiglu_scalar(float *g, const float *u, size_t n) {
    for (size_t i = 0; i < n; i++) g[i] = g[i] / (1 + exp_scalar(-g[i])) * u[i];
}

static void weighted_sum_scalar(const float *a, const float *v, size_t n, size_t ld, size_t d, float *out) {
    for (size_t i = 0; i < d; i++) out[i] = 0;
    for (size_t s = 0; s < n; s++)
        for (size_t i = 0; i < d; i++) out[i] += a[s] * v[s * ld + i];
}

static void attend_scalar(const float *q, const float *k, const float *v, size_t n, size_t ld, size_t d,
                          float scale, float *scores, float *out) {
    for (size_t s = 0; s < n; s++) {
        float dot = 0;
        for (size_t i = 0; i < d; i++) dot += q[i] * k[s * ld + i];
        scores[s] = scale * dot;
    }
    softmax_scalar(scores, n);
    weighted_sum_scalar(scores, v, n, ld, d, out);
}

static void attend_t_scalar(const float *q, const float *kt, size_t ldk, const float *v, size_t n, size_t ld, size_t d,
                            float scale, float *scores, float *out) {
    for (size_t s = 0; s < n; s++) scores[s] = 0;
    for (size_t i = 0; i < d; i++)
        for (size_t s = 0; s < n; s++) scores[s] += q[i] * kt[i * ldk + s];
    for (size_t s = 0; s < n; s++) scores[s] *= scale;
    softmax_scalar(scores, n);
    weighted_sum_scalar(scores, v, n, ld, d, out);
}

#if LEP_X86
// Cephes expf constants.
#define EXP_HI 88.7228f
#define EXP_LO (-87.3365447504f)
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO (-2.12194440e-4f)
#define P0 1.9875691500E-4f
#define P1 1.3981999507E-3f
#define P2 8.3334519073E-3f
#define P3 4.1665795894E-2f
#define P4 1.6666665459E-1f
#define P5 5.0000001201E-1f

// ---- AVX2 ----

INLINE AVX2 __m256 exp256(__m256 x) {
    // min/max return their second operand when one is NaN: NaN stays NaN.
    x = _mm256_max_ps(_mm256_set1_ps(EXP_LO), _mm256_min_ps(_mm256_set1_ps(EXP_HI), x));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), r);
    __m256 p = _mm256_set1_ps(P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P5));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1));
    // 2ⁿ as 2^⌊n/2⌋ · 2^(n−⌊n/2⌋): n reaches 128 near the overflow threshold.
    __m256i ni = _mm256_cvtps_epi32(n), n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256i bias = _mm256_set1_epi32(127);
    __m256 e1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    __m256 e2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, e1), e2);
}

INLINE AVX2 float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE AVX2 __m256 load8(const void *w, size_t i, int type) {
    const unsigned char *p = (const unsigned char *)w;
    if (type == LEP_F32) return _mm256_loadu_ps((const float *)(p + 4 * i));
    __m128i h = _mm_loadu_si128((const __m128i *)(p + 2 * i));
    if (type == LEP_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

INLINE AVX2 void linear_avx2_t(const float *x, size_t rows, size_t ldx, const void *w, int type, size_t in,
                               size_t o0, size_t o1, float *y, size_t ldy, int acc) {
    size_t full = in & ~(size_t)7;
    size_t o = o0;
    for (; o + 4 <= o1; o += 4) {
        for (size_t t = 0; t < rows; t++) {
            const float *xr = x + t * ldx;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t i = 0; i < full; i += 8) {
                __m256 xv = _mm256_loadu_ps(xr + i);
                a0 = _mm256_fmadd_ps(load8(w, (o + 0) * in + i, type), xv, a0);
                a1 = _mm256_fmadd_ps(load8(w, (o + 1) * in + i, type), xv, a1);
                a2 = _mm256_fmadd_ps(load8(w, (o + 2) * in + i, type), xv, a2);
                a3 = _mm256_fmadd_ps(load8(w, (o + 3) * in + i, type), xv, a3);
            }
            float s[4] = {hsum256(a0), hsum256(a1), hsum256(a2), hsum256(a3)};
            for (size_t i = full; i < in; i++)
                for (int k = 0; k < 4; k++) s[k] += xr[i] * load_scalar(w, (o + k) * in + i, type);
            for (int k = 0; k < 4; k++) y[t * ldy + o + k] = acc ? y[t * ldy + o + k] + s[k] : s[k];
        }
    }
    for (; o < o1; o++) {
        for (size_t t = 0; t < rows; t++) {
            const float *xr = x + t * ldx;
            __m256 a = _mm256_setzero_ps();
            for (size_t i = 0; i < full; i += 8) a = _mm256_fmadd_ps(load8(w, o * in + i, type), _mm256_loadu_ps(xr + i), a);
            float s = hsum256(a);
            for (size_t i = full; i < in; i++) s += xr[i] * load_scalar(w, o * in + i, type);
            y[t * ldy + o] = acc ? y[t * ldy + o] + s : s;
        }
    }
}

static AVX2 void linear_avx2(const float *x, size_t rows, size_t ldx, const void *w, int type, size_t in,
                             size_t o0, size_t o1, float *y, size_t ldy, int acc) {
    switch (type) {
    case LEP_F32: linear_avx2_t(x, rows, ldx, w, LEP_F32, in, o0, o1, y, ldy, acc); break;
    case LEP_BF16: linear_avx2_t(x, rows, ldx, w, LEP_BF16, in, o0, o1, y, ldy, acc); break;
    default: linear_avx2_t(x, rows, ldx, w, LEP_F16, in, o0, o1, y, ldy, acc); break;
    }
}

static AVX2 void to_f32_avx2(const void *src, int type, float *dst, size_t n) {
    size_t i = 0;
    if (type != LEP_F32)
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load8(src, i, type == LEP_BF16 ? LEP_BF16 : LEP_F16));
    for (; i < n; i++) dst[i] = load_scalar(src, i, type);
}

static AVX2 void exp_avx2(const float *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, exp256(_mm256_loadu_ps(x + i)));
    if (i < n) {
        float a[8] = {0}, b[8];
        memcpy(a, x + i, (n - i) * 4);
        _mm256_storeu_ps(b, exp256(_mm256_loadu_ps(a)));
        memcpy(y + i, b, (n - i) * 4);
    }
}

static AVX2 void softmax_avx2(float *x, size_t n) {
    float m = -INFINITY;
    for (size_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    __m256 mv = _mm256_set1_ps(m), sv = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
        _mm256_storeu_ps(x + i, e);
        sv = _mm256_add_ps(sv, e);
    }
    float sum = hsum256(sv);
    if (i < n) {
        float a[8], b[8];
        for (int k = 0; k < 8; k++) a[k] = i + k < n ? x[i + k] - m : 0;
        _mm256_storeu_ps(b, exp256(_mm256_loadu_ps(a)));
        for (size_t k = 0; i + k < n; k++) { x[i + k] = b[k]; sum += b[k]; }
    }
    __m256 inv = _mm256_set1_ps(1 / sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    for (; i < n; i++) x[i] *= 1 / sum;
}

static AVX2 void swiglu_avx2(float *g, const float *u, size_t n) {
    size_t i = 0;
    __m256 one = _mm256_set1_ps(1);
    for (; i + 8 <= n; i += 8) {
        __m256 gv = _mm256_loadu_ps(g + i);
        __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), gv));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(gv, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
    }
    if (i < n) {
        float a[8] = {0}, b[8];
        for (size_t k = 0; i + k < n; k++) a[k] = -g[i + k];
        _mm256_storeu_ps(b, exp256(_mm256_loadu_ps(a)));
        for (size_t k = 0; i + k < n; k++) g[i + k] = g[i + k] / (1 + b[k]) * u[i + k];
    }
}

static AVX2 void attend_avx2(const float *q, const float *k, const float *v, size_t n, size_t ld, size_t d,
                             float scale, float *scores, float *out) {
    size_t full = d & ~(size_t)7;
    for (size_t s = 0; s < n; s++) {
        const float *ks = k + s * ld;
        __m256 a = _mm256_setzero_ps();
        for (size_t i = 0; i < full; i += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(ks + i), a);
        float dot = hsum256(a);
        for (size_t i = full; i < d; i++) dot += q[i] * ks[i];
        scores[s] = scale * dot;
    }
    softmax_avx2(scores, n);
    for (size_t i = 0; i < d; i++) out[i] = 0;
    for (size_t s = 0; s < n; s++) {
        const float *vs = v + s * ld;
        __m256 a = _mm256_set1_ps(scores[s]);
        for (size_t i = 0; i < full; i += 8)
            _mm256_storeu_ps(out + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(vs + i), _mm256_loadu_ps(out + i)));
        for (size_t i = full; i < d; i++) out[i] += scores[s] * vs[i];
    }
}

static AVX2 void attend_t_avx2(const float *q, const float *kt, size_t ldk, const float *v, size_t n, size_t ld, size_t d,
                               float scale, float *scores, float *out) {
    size_t s = 0;
    for (; s + 8 <= n; s += 8) {
        __m256 a = _mm256_setzero_ps();
        for (size_t i = 0; i < d; i++) a = _mm256_fmadd_ps(_mm256_set1_ps(q[i]), _mm256_loadu_ps(kt + i * ldk + s), a);
        _mm256_storeu_ps(scores + s, _mm256_mul_ps(a, _mm256_set1_ps(scale)));
    }
    for (; s < n; s++) {
        float dot = 0;
        for (size_t i = 0; i < d; i++) dot += q[i] * kt[i * ldk + s];
        scores[s] = scale * dot;
    }
    softmax_avx2(scores, n);
    size_t full = d & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0;
        size_t t = 0;
        for (; t + 2 <= n; t += 2) {
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(scores[t]), _mm256_loadu_ps(v + t * ld + i), a0);
            a1 = _mm256_fmadd_ps(_mm256_set1_ps(scores[t + 1]), _mm256_loadu_ps(v + (t + 1) * ld + i), a1);
        }
        if (t < n) a0 = _mm256_fmadd_ps(_mm256_set1_ps(scores[t]), _mm256_loadu_ps(v + t * ld + i), a0);
        _mm256_storeu_ps(out + i, _mm256_add_ps(a0, a1));
    }
    for (size_t i = full; i < d; i++) {
        float acc = 0;
        for (size_t t = 0; t < n; t++) acc += scores[t] * v[t * ld + i];
        out[i] = acc;
    }
}

// ---- AVX-512 ----

INLINE AVX512 __m512 exp512(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(-103.9f), _mm512_min_ps(_mm512_set1_ps(88.7228f), x));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
    __m512 p = _mm512_set1_ps(P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P5));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1));
    return _mm512_scalef_ps(p, n);  // p · 2ⁿ with gradual underflow
}

INLINE AVX512 __m512 load16(const void *w, size_t i, int type) {
    const unsigned char *p = (const unsigned char *)w;
    if (type == LEP_F32) return _mm512_loadu_ps((const float *)(p + 4 * i));
    __m256i h = _mm256_loadu_si256((const __m256i *)(p + 2 * i));
    if (type == LEP_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

INLINE AVX512 __m512 load16m(const void *w, size_t i, int type, __mmask16 m) {
    const unsigned char *p = (const unsigned char *)w;
    if (type == LEP_F32) return _mm512_maskz_loadu_ps(m, (const float *)(p + 4 * i));
    __m256i h = _mm256_maskz_loadu_epi16(m, p + 2 * i);
    if (type == LEP_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

INLINE AVX512 void linear_512_t(const float *x, size_t rows, size_t ldx, const void *w, int type, size_t in,
                                size_t o0, size_t o1, float *y, size_t ldy, int acc) {
    size_t full = in & ~(size_t)15;
    __mmask16 tail = (__mmask16)((1u << (in & 15)) - 1);
    size_t o = o0;
    for (; o + 4 <= o1; o += 4) {
        const size_t r0 = (o + 0) * in, r1 = (o + 1) * in, r2 = (o + 2) * in, r3 = (o + 3) * in;
        for (size_t t = 0; t < rows; t++) {
            const float *xr = x + t * ldx;
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t i = 0; i < full; i += 16) {
                __m512 xv = _mm512_loadu_ps(xr + i);
                a0 = _mm512_fmadd_ps(load16(w, r0 + i, type), xv, a0);
                a1 = _mm512_fmadd_ps(load16(w, r1 + i, type), xv, a1);
                a2 = _mm512_fmadd_ps(load16(w, r2 + i, type), xv, a2);
                a3 = _mm512_fmadd_ps(load16(w, r3 + i, type), xv, a3);
            }
            if (tail) {
                __m512 xv = _mm512_maskz_loadu_ps(tail, xr + full);
                a0 = _mm512_fmadd_ps(load16m(w, r0 + full, type, tail), xv, a0);
                a1 = _mm512_fmadd_ps(load16m(w, r1 + full, type, tail), xv, a1);
                a2 = _mm512_fmadd_ps(load16m(w, r2 + full, type, tail), xv, a2);
                a3 = _mm512_fmadd_ps(load16m(w, r3 + full, type, tail), xv, a3);
            }
            float *yr = y + t * ldy + o;
            float s0 = _mm512_reduce_add_ps(a0), s1 = _mm512_reduce_add_ps(a1);
            float s2 = _mm512_reduce_add_ps(a2), s3 = _mm512_reduce_add_ps(a3);
            if (acc) { s0 += yr[0]; s1 += yr[1]; s2 += yr[2]; s3 += yr[3]; }
            yr[0] = s0; yr[1] = s1; yr[2] = s2; yr[3] = s3;
        }
    }
    for (; o < o1; o++) {
        for (size_t t = 0; t < rows; t++) {
            const float *xr = x + t * ldx;
            __m512 a = _mm512_setzero_ps();
            for (size_t i = 0; i < full; i += 16) a = _mm512_fmadd_ps(load16(w, o * in + i, type), _mm512_loadu_ps(xr + i), a);
            if (tail) a = _mm512_fmadd_ps(load16m(w, o * in + full, type, tail), _mm512_maskz_loadu_ps(tail, xr + full), a);
            float s = _mm512_reduce_add_ps(a);
            y[t * ldy + o] = acc ? y[t * ldy + o] + s : s;
        }
    }
}

static AVX512 void linear_512(const float *x, size_t rows, size_t ldx, const void *w, int type, size_t in,
                              size_t o0, size_t o1, float *y, size_t ldy, int acc) {
    switch (type) {
    case LEP_F32: linear_512_t(x, rows, ldx, w, LEP_F32, in, o0, o1, y, ldy, acc); break;
    case LEP_BF16: linear_512_t(x, rows, ldx, w, LEP_BF16, in, o0, o1, y, ldy, acc); break;
    default: linear_512_t(x, rows, ldx, w, LEP_F16, in, o0, o1, y, ldy, acc); break;
    }
}

static AVX512 void to_f32_512(const void *src, int type, float *dst, size_t n) {
    if (type == LEP_F32) { memcpy(dst, src, n * 4); return; }
    int t = type == LEP_BF16 ? LEP_BF16 : LEP_F16;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, load16(src, i, t));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(dst + i, m, load16m(src, i, t, m));
    }
}

static AVX512 void exp_512(const float *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, exp512(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, exp512(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

static AVX512 void softmax_512(float *x, size_t n) {
    if (n == 0) return;
    size_t full = n & ~(size_t)15;
    __mmask16 tail = (__mmask16)((1u << (n & 15)) - 1);
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (size_t i = 0; i < full; i += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(x + i));
    if (tail) mv = _mm512_mask_max_ps(mv, tail, mv, _mm512_maskz_loadu_ps(tail, x + full));
    mv = _mm512_set1_ps(_mm512_reduce_max_ps(mv));
    __m512 sv = _mm512_setzero_ps();
    for (size_t i = 0; i < full; i += 16) {
        __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), mv));
        _mm512_storeu_ps(x + i, e);
        sv = _mm512_add_ps(sv, e);
    }
    if (tail) {
        __m512 e = _mm512_maskz_mov_ps(tail, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + full), mv)));
        _mm512_mask_storeu_ps(x + full, tail, e);
        sv = _mm512_add_ps(sv, e);
    }
    __m512 inv = _mm512_set1_ps(1 / _mm512_reduce_add_ps(sv));
    for (size_t i = 0; i < full; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
    if (tail) _mm512_mask_storeu_ps(x + full, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + full), inv));
}

static AVX512 void rmsnorm_512(const float *x, const float *w, float eps, size_t n, float *y) {
    size_t full = n & ~(size_t)15;
    __mmask16 tail = (__mmask16)((1u << (n & 15)) - 1);
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    size_t i = 0;
    for (; i + 32 <= full; i += 32) {
        __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
        s0 = _mm512_fmadd_ps(a, a, s0);
        s1 = _mm512_fmadd_ps(b, b, s1);
    }
    for (; i < full; i += 16) {
        __m512 a = _mm512_loadu_ps(x + i);
        s0 = _mm512_fmadd_ps(a, a, s0);
    }
    if (tail) {
        __m512 a = _mm512_maskz_loadu_ps(tail, x + full);
        s1 = _mm512_fmadd_ps(a, a, s1);
    }
    float inv = 1 / sqrtf(_mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) / (float)n + eps);
    __m512 iv = _mm512_set1_ps(inv);
    for (i = 0; i < full; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(w + i), _mm512_mul_ps(_mm512_loadu_ps(x + i), iv)));
    if (tail)
        _mm512_mask_storeu_ps(y + full, tail,
                              _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, w + full), _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + full), iv)));
}

static AVX512 void swiglu_512(float *g, const float *u, size_t n) {
    __m512 one = _mm512_set1_ps(1);
    size_t i = 0;
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 gv = _mm512_maskz_loadu_ps(m, g + i);
        __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), gv));
        __m512 r = _mm512_mul_ps(_mm512_div_ps(gv, _mm512_add_ps(one, e)), _mm512_maskz_loadu_ps(m, u + i));
        _mm512_mask_storeu_ps(g + i, m, r);
    }
}

static AVX512 void attend_512(const float *q, const float *k, const float *v, size_t n, size_t ld, size_t d,
                              float scale, float *scores, float *out) {
    size_t full = d & ~(size_t)15;
    __mmask16 tail = (__mmask16)((1u << (d & 15)) - 1);
    for (size_t s = 0; s < n; s++) {
        const float *ks = k + s * ld;
        __m512 a = _mm512_setzero_ps();
        for (size_t i = 0; i < full; i += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), _mm512_loadu_ps(ks + i), a);
        if (tail) a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, q + full), _mm512_maskz_loadu_ps(tail, ks + full), a);
        scores[s] = scale * _mm512_reduce_add_ps(a);
    }
    softmax_512(scores, n);
    for (size_t i = 0; i < d; i++) out[i] = 0;
    for (size_t s = 0; s < n; s++) {
        const float *vs = v + s * ld;
        __m512 a = _mm512_set1_ps(scores[s]);
        for (size_t i = 0; i < full; i += 16)
            _mm512_storeu_ps(out + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(vs + i), _mm512_loadu_ps(out + i)));
        if (tail)
            _mm512_mask_storeu_ps(out + full, tail,
                                  _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(tail, vs + full), _mm512_maskz_loadu_ps(tail, out + full)));
    }
}
static AVX512 void attend_t_512(const float *q, const float *kt, size_t ldk, const float *v, size_t n, size_t ld, size_t d,
                                float scale, float *scores, float *out) {
    __m512 sc = _mm512_set1_ps(scale);
    size_t s = 0;
    // Scores 64 keys at a time (four independent accumulators), then 16 at a time with a mask.
    for (; s + 64 <= n; s += 64) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t i = 0; i < d; i++) {
            const float *row = kt + i * ldk + s;
            __m512 qi = _mm512_set1_ps(q[i]);
            a0 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(row), a0);
            a1 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(row + 16), a1);
            a2 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(row + 32), a2);
            a3 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(row + 48), a3);
        }
        _mm512_storeu_ps(scores + s, _mm512_mul_ps(a0, sc));
        _mm512_storeu_ps(scores + s + 16, _mm512_mul_ps(a1, sc));
        _mm512_storeu_ps(scores + s + 32, _mm512_mul_ps(a2, sc));
        _mm512_storeu_ps(scores + s + 48, _mm512_mul_ps(a3, sc));
    }
    for (; s < n; s += 16) {
        __mmask16 m = n - s >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - s)) - 1);
        __m512 a = _mm512_setzero_ps();
        for (size_t i = 0; i < d; i++) a = _mm512_fmadd_ps(_mm512_set1_ps(q[i]), _mm512_maskz_loadu_ps(m, kt + i * ldk + s), a);
        _mm512_mask_storeu_ps(scores + s, m, _mm512_mul_ps(a, sc));
    }
    softmax_512(scores, n);
    // out = Σ a_t v_t, 16 dimensions at a time, four accumulators over t.
    for (size_t i = 0; i < d; i += 16) {
        __mmask16 m = d - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (d - i)) - 1);
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        const float *vi = v + i;
        size_t t = 0;
        for (; t + 4 <= n; t += 4) {
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(scores[t]), _mm512_maskz_loadu_ps(m, vi + t * ld), a0);
            a1 = _mm512_fmadd_ps(_mm512_set1_ps(scores[t + 1]), _mm512_maskz_loadu_ps(m, vi + (t + 1) * ld), a1);
            a2 = _mm512_fmadd_ps(_mm512_set1_ps(scores[t + 2]), _mm512_maskz_loadu_ps(m, vi + (t + 2) * ld), a2);
            a3 = _mm512_fmadd_ps(_mm512_set1_ps(scores[t + 3]), _mm512_maskz_loadu_ps(m, vi + (t + 3) * ld), a3);
        }
        for (; t < n; t++) a0 = _mm512_fmadd_ps(_mm512_set1_ps(scores[t]), _mm512_maskz_loadu_ps(m, vi + t * ld), a0);
        _mm512_mask_storeu_ps(out + i, m, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    }
}
#endif  // LEP_X86

// ---- dispatch ----

static int best_level(void) {
#if LEP_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        return LEP_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) return LEP_SIMD_AVX2;
#endif
    return LEP_SIMD_SCALAR;
}

static int best = -1;                        // the CPU's best level, found once
static _Thread_local int thread_limit = -1;  // lep_simd_limit's cap for this thread (-1: none)

int lep_simd_level(void) {
    if (best < 0) best = best_level();  // idempotent: racing threads store the same value
    return thread_limit >= 0 && thread_limit < best ? thread_limit : best;
}

int lep_simd_limit(int want) {
    thread_limit = want < 0 ? 0 : want;
    return lep_simd_level();
}

void lep_linear_rows(const float *x, size_t rows, size_t ldx, const void *w, int wtype, size_t in,
                     size_t o_begin, size_t o_end, float *y, size_t ldy, int accumulate) {
#if LEP_X86
    switch (lep_simd_level()) {
    case LEP_SIMD_AVX512: linear_512(x, rows, ldx, w, wtype, in, o_begin, o_end, y, ldy, accumulate); return;
    case LEP_SIMD_AVX2: linear_avx2(x, rows, ldx, w, wtype, in, o_begin, o_end, y, ldy, accumulate); return;
    }
#endif
    linear_scalar(x, rows, ldx, w, wtype, in, o_begin, o_end, y, ldy, accumulate);
}

float lep_element(const void *w, size_t i, int type) { return load_scalar(w, i, type); }

void lep_to_f32(const void *src, int type, float *dst, size_t count) {
#if LEP_X86
    switch (lep_simd_level()) {
    case LEP_SIMD_AVX512: to_f32_512(src, type, dst, count); return;
    case LEP_SIMD_AVX2: to_f32_avx2(src, type, dst, count); return;
    }
#endif
    for (size_t i = 0; i < count; i++) dst[i] = load_scalar(src, i, type);
}

void lep_softmax(float *x, size_t n) {
#if LEP_X86
    switch (lep_simd_level()) {
    case LEP_SIMD_AVX512: softmax_512(x, n); return;
    case LEP_SIMD_AVX2: softmax_avx2(x, n); return;
    }
#endif
    softmax_scalar(x, n);
}

void lep_rmsnorm(const float *x, const float *w, float eps, size_t n, float *y) {
#if LEP_X86
    if (lep_simd_level() == LEP_SIMD_AVX512) {
        rmsnorm_512(x, w, eps, n, y);
        return;
    }
#endif
    rmsnorm_scalar(x, w, eps, n, y);
}

void lep_swiglu(float *gate, const float *up, size_t n) {
#if LEP_X86
    switch (lep_simd_level()) {
    case LEP_SIMD_AVX512: swiglu_512(gate, up, n); return;
    case LEP_SIMD_AVX2: swiglu_avx2(gate, up, n); return;
    }
#endif
    swiglu_scalar(gate, up, n);
}

void lep_attend(const float *q, const float *keys, const float *values, size_t n, size_t ld, size_t d,
                float scale, float *scores, float *out) {
#if LEP_X86
    switch (lep_simd_level()) {
    case LEP_SIMD_AVX512: attend_512(q, keys, values, n, ld, d, scale, scores, out); return;
    case LEP_SIMD_AVX2: attend_avx2(q, keys, values, n, ld, d, scale, scores, out); return;
    }
#endif
    attend_scalar(q, keys, values, n, ld, d, scale, scores, out);
}

void lep_attend_t(const float *q, const float *keys_t, size_t ldk, const float *values, size_t n, size_t ld, size_t d,
                  float scale, float *scores, float *out) {
#if LEP_X86
    switch (lep_simd_level()) {
    case LEP_SIMD_AVX512: attend_t_512(q, keys_t, ldk, values, n, ld, d, scale, scores, out); return;
    case LEP_SIMD_AVX2: attend_t_avx2(q, keys_t, ldk, values, n, ld, d, scale, scores, out); return;
    }
#endif
    attend_t_scalar(q, keys_t, ldk, values, n, ld, d, scale, scores, out);
}

void lep_exp(const float *x, float *y, size_t n) {
#if LEP_X86
    switch (lep_simd_level()) {
    case LEP_SIMD_AVX512: exp_512(x, y, n); return;
    case LEP_SIMD_AVX2: exp_avx2(x, y, n); return;
    }
#endif
    for (size_t i = 0; i < n; i++) y[i] = exp_scalar(x[i]);
}
