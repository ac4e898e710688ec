// Matrix products of the forward pass's long passes (prefill): C = A·Wᵀ with the weights W read in
// place from the checkpoint's storage (F32, BF16 or F16); see include/lep_kernels.h.
//
// Blocking (AVX-512): W is taken LEP_GEMM_PANEL = 32 output features at a time. A panel's 32 rows of W
// are packed once into scratch as Float32 [k][32] (16-bit weights in 16 × 16 blocks loaded row by row,
// widened and transposed in registers; F32 weights row by row in L1-sized blocks), then a 14 × 32 register
// tile (28 accumulators) runs over every block of 14 rows of A for the whole k: per element of k, two loads of the panel and 14 broadcasts
// from the rows of A, read in place (no packing of A). The panel (k·128 bytes; blocks of KC = 4096 of
// k for longer rows) stays in L2 while A streams; each tile of C is written once per block (added to C
// when accumulating).
#include "lep_kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define GEMM_X86 1
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))
#endif

enum { NR = LEP_GEMM_PANEL, MR = 14, KC = 4096 };

#if GEMM_X86
// pack_panel for F32 weights: blocks of 64 columns, each row's 64 values copied (its next block
// prefetched) and written down the block's column r (the 8 KiB block stays in L1); faster
// than gathers for 4-byte elements (measured: hidden 1024 f32, prefill 1.15 -> 1.07 s).
static AVX512 void pack_rows(const void *w, size_t n, size_t k, size_t n0, float *bp) {
    size_t rows = n - n0 < NR ? n - n0 : NR, size = 4;
    const char *base = (const char *)w + n0 * k * size;
    enum { KB = 64 };
    for (size_t k0 = 0; k0 < k; k0 += KB) {
        size_t kn = k - k0 < KB ? k - k0 : KB;
        float *d = bp + k0 * NR;
        for (size_t r = 0; r < rows; r++) {
            const char *src = base + (r * k + k0) * size;
            _mm_prefetch(src + 4 * KB * size, _MM_HINT_T0);
            _mm_prefetch(src + 4 * KB * size + 64, _MM_HINT_T0);
            float t[KB];
            memcpy(t, src, kn * size);
            for (size_t j = 0; j < kn; j++) d[j * NR + r] = t[j];
        }
        for (size_t r = rows; r < NR; r++)
            for (size_t j = 0; j < kn; j++) d[j * NR + r] = 0;
    }
}

// 16 columns [kk, kk + 16) of 16 rows of 16-bit weights (row i at src + i·k, rows ≥ `rows` read as 0)
// widened to float and transposed: dst[j·32 + i] = w[i][kk + j]. Each row's 32 bytes are one load,
// then a 16 × 16 transposition in registers (4 rounds of 16 shuffles).
static AVX512 void pack_block16(const uint16_t *src, size_t k, size_t rows, int type, float *dst) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) {
        __m256i x = (size_t)i < rows ? _mm256_loadu_si256((const __m256i *)(src + i * k)) : _mm256_setzero_si256();
        r[i] = type == LEP_BF16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(x), 16)) : _mm512_cvtph_ps(x);
    }
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) {
            t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0x88);
            t[8 * i + j + 4] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0xDD);
        }
    for (int j = 0; j < 8; j++) {
        _mm512_storeu_ps(dst + j * NR, _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88));
        _mm512_storeu_ps(dst + (j + 8) * NR, _mm512_shuffle_f32x4(t[j], t[j + 8], 0xDD));
    }
}

// Packs rows [n0, n0 + 32) of w [n, k] into bp[kk*32 + r] as floats (rows past n are 0).
static AVX512 void pack_panel(const void *w, int type, size_t n, size_t k, size_t n0, float *bp) {
    if (type == LEP_F32) {
        pack_rows(w, n, k, n0, bp);
        return;
    }
    // 16-bit: blocks of 16 columns, rows 0..15 then 16..31, by loads and transpositions (faster than
    // gathering pairs of columns: 0.36-0.46 vs 0.43-0.51 ns per element, SmolLM-135M's MLP shape).
    size_t rows = n - n0 < NR ? n - n0 : NR;
    const uint16_t *base = (const uint16_t *)w + n0 * k;
    size_t kk = 0;
    for (; kk + 16 <= k; kk += 16) {
        pack_block16(base + kk, k, rows, type, bp + kk * NR);
        pack_block16(base + 16 * k + kk, k, rows > 16 ? rows - 16 : 0, type, bp + kk * NR + 16);
    }
    for (; kk < k; kk++)  // the last k mod 16 columns
        for (size_t r = 0; r < NR; r++) bp[kk * NR + r] = r < rows ? lep_element(w, (n0 + r) * k + kk, type) : 0;
}

// C rows [0, R) × the panel's columns (masks m0, m1) = (acc ? C : 0) + alpha · A[0..R)·panelᵀ over k
// (alpha 1: no multiplication).
INLINE AVX512 void tile(int R, const float *a, size_t lda, const float *bp, size_t k, float *c, size_t ldc, int acc,
                        float alpha, __mmask16 m0, __mmask16 m1) {
    __m512 c0[MR], c1[MR];
    const float *ar[MR];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++)
        if (r < R) {
            c0[r] = _mm512_setzero_ps();
            c1[r] = _mm512_setzero_ps();
            ar[r] = a + r * lda;
        }
    for (size_t kk = 0; kk < k; kk++) {
        __m512 b0 = _mm512_loadu_ps(bp + kk * NR), b1 = _mm512_loadu_ps(bp + kk * NR + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++)
            if (r < R) {
                __m512 av = _mm512_set1_ps(ar[r][kk]);
                c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
                c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
            }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++)
        if (r < R) {
            float *cr = c + r * ldc;
            if (alpha != 1) {
                c0[r] = _mm512_mul_ps(c0[r], _mm512_set1_ps(alpha));
                c1[r] = _mm512_mul_ps(c1[r], _mm512_set1_ps(alpha));
            }
            if (acc) {
                c0[r] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), c0[r]);
                c1[r] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), c1[r]);
            }
            _mm512_mask_storeu_ps(cr, m0, c0[r]);
            _mm512_mask_storeu_ps(cr + 16, m1, c1[r]);
        }
}

// The last R < 14 rows: one instantiation per R.
static AVX512 void tile_rest(int R, const float *a, size_t lda, const float *bp, size_t k, float *c, size_t ldc,
                             int acc, float alpha, __mmask16 m0, __mmask16 m1) {
    switch (R) {
#define TILE(r) \
    case r: tile(r, a, lda, bp, k, c, ldc, acc, alpha, m0, m1); break;
        TILE(1) TILE(2) TILE(3) TILE(4) TILE(5) TILE(6) TILE(7) TILE(8) TILE(9) TILE(10) TILE(11) TILE(12) TILE(13)
#undef TILE
    default: break;
    }
}

// C[:, 0..cols) (+)= alpha · A[m, k]·panelᵀ for one packed panel bp [k][32] (cols ≤ 32 columns stored).
static AVX512 void panel_product(const float *a, size_t m, size_t lda, const float *bp, size_t k, size_t cols, float *c,
                                 size_t ldc, int acc, float alpha) {
    __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? (__mmask16)0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    // Long rows in blocks of KC (the panel's block, KC·128 bytes, stays in L2), added up in C.
    for (size_t k0 = 0; k0 < k; k0 += KC) {
        size_t kc = k - k0 < KC ? k - k0 : KC;
        int add = acc || k0 > 0;
        size_t i = 0;
        for (; i + MR <= m; i += MR) tile(MR, a + i * lda + k0, lda, bp + k0 * NR, kc, c + i * ldc, ldc, add, alpha, m0, m1);
        if (i < m) tile_rest((int)(m - i), a + i * lda + k0, lda, bp + k0 * NR, kc, c + i * ldc, ldc, add, alpha, m0, m1);
    }
}

static AVX512 void gemm_512(const float *a, size_t m, size_t lda, const void *w, int type, size_t n, size_t k,
                            size_t p_begin, size_t p_end, float *c, size_t ldc, int acc, float *scratch) {
    for (size_t p = p_begin; p < p_end; p++) {
        size_t n0 = p * NR, cols = n - n0 < NR ? n - n0 : NR;
        pack_panel(w, type, n, k, n0, scratch);
        panel_product(a, m, lda, scratch, k, cols, c + n0, ldc, acc, 1);
    }
}

// c[:, panels] = silu(A·Wgᵀ) ⊙ (A·Wuᵀ): per panel both weight panels are packed; per 14-row tile the
// gate goes to C, the up product to a small buffer, then lep_swiglu combines them in C.
static AVX512 void gemm_swiglu_512(const float *a, size_t m, size_t lda, const void *wg, int tg, const void *wu, int tu,
                                   size_t n, size_t k, size_t p_begin, size_t p_end, float *c, size_t ldc, float *scratch) {
    float *gp = scratch, *up = scratch + k * NR, *tmp = scratch + 2 * k * NR;
    for (size_t p = p_begin; p < p_end; p++) {
        size_t n0 = p * NR, cols = n - n0 < NR ? n - n0 : NR;
        pack_panel(wg, tg, n, k, n0, gp);
        pack_panel(wu, tu, n, k, n0, up);
        __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
        __mmask16 m1 = cols >= 32 ? (__mmask16)0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
        for (size_t i = 0; i < m; i += MR) {
            int R = m - i < MR ? (int)(m - i) : MR;
            float *ct = c + i * ldc + n0;
            if (R == MR) {
                tile(MR, a + i * lda, lda, gp, k, ct, ldc, 0, 1, m0, m1);
                tile(MR, a + i * lda, lda, up, k, tmp, NR, 0, 1, m0, m1);
            } else {
                tile_rest(R, a + i * lda, lda, gp, k, ct, ldc, 0, 1, m0, m1);
                tile_rest(R, a + i * lda, lda, up, k, tmp, NR, 0, 1, m0, m1);
            }
            for (int r = 0; r < R; r++) lep_swiglu(ct + r * ldc, tmp + r * NR, cols);
        }
    }
}
#endif

int lep_gemm_available(void) { return lep_simd_level() >= LEP_SIMD_AVX512; }

// Each thread's panel buffer, kept between calls (freed when the thread exits).
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local float *scratch_buffer;
static _Thread_local size_t scratch_capacity;

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free); }

static float *thread_scratch(size_t floats) {
    if (floats <= scratch_capacity) return scratch_buffer;
    pthread_once(&scratch_once, make_scratch_key);
    float *p = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
    if (!p) return NULL;
    free(scratch_buffer);
    scratch_buffer = p;
    scratch_capacity = floats;
    pthread_setspecific(scratch_key, p);
    return p;
}

void lep_gemm_panels(const float *a, size_t m, size_t lda, const void *w, int wtype, size_t n, size_t k,
                     size_t p_begin, size_t p_end, float *c, size_t ldc, int accumulate) {
    size_t panels = (n + NR - 1) / NR;
    if (p_end > panels) p_end = panels;
    if (p_begin >= p_end || m == 0) return;
#if GEMM_X86
    float *scratch = lep_gemm_available() ? thread_scratch(k * NR) : NULL;
    if (scratch) {
        gemm_512(a, m, lda, w, wtype, n, k, p_begin, p_end, c, ldc, accumulate, scratch);
        return;
    }
#endif
    size_t o_end = p_end * NR < n ? p_end * NR : n;
    for (size_t t = 0; t < m; t++)
        for (size_t o = p_begin * NR; o < o_end; o++) {
            float s = 0;
            for (size_t i = 0; i < k; i++) s += a[t * lda + i] * lep_element(w, o * k + i, wtype);
            c[t * ldc + o] = accumulate ? c[t * ldc + o] + s : s;
        }
}

// ---- Causal attention of prefill blocks (AVX-512) ----
// One KV head's keys and values [n, d] packed as 32-key panels: keys [np][d][32] (the transposed panels
// the tile multiplies Q by), then values [ceil(d/32)][np·32][32] (panels of 32 of the d features,
// over every key); keys past n are 0.

size_t lep_attention_packed_floats(size_t n, size_t d) {
    size_t np = (n + NR - 1) / NR, dp = (d + NR - 1) / NR;
    return np * NR * d + dp * np * NR * NR;
}

void lep_attention_pack(const float *keys, const float *values, size_t ld, size_t n, size_t d, float *dst) {
    size_t np = (n + NR - 1) / NR, dp = (d + NR - 1) / NR, keys_floats = np * NR * d;
    for (size_t p = 0; p < np; p++)
        for (size_t i = 0; i < d; i++)
            for (size_t r = 0; r < NR; r++) {
                size_t s = p * NR + r;
                dst[(p * d + i) * NR + r] = s < n ? keys[s * ld + i] : 0;
            }
    float *vp = dst + keys_floats;
    for (size_t q = 0; q < dp; q++)
        for (size_t s = 0; s < np * NR; s++)
            for (size_t r = 0; r < NR; r++) {
                size_t i = q * NR + r;
                vp[(q * np * NR + s) * NR + r] = s < n && i < d ? values[s * ld + i] : 0;
            }
}

// Window start of a position (absolute), as a key index relative to key0.
#define START(pos) ((window == 0 || (pos) + 1 < window ? 0 : (pos) + 1 - window) - key0)

#if GEMM_X86
// lep_attention_rows on key panels pa.. (cols keys from pa·32), scores: scratch [rows, cols].
static AVX512 void attention_512(const float *q, size_t ldq, size_t rows, size_t pos0, size_t key0, size_t window,
                                 const float *packed, size_t np, size_t d, float scale, float *out, size_t ldo, size_t pa,
                                 size_t cols, float *scores) {
    size_t dp = (d + NR - 1) / NR;
    const __mmask16 all = (__mmask16)0xFFFF;
    // scores [rows, cols] = scale · Q·Kᵀ; per 14-row tile only the key panels some row of the tile sees
    // (the rest is zeroed below as masked).
    for (size_t i = 0; i < rows; i += MR) {
        int R = rows - i < MR ? (int)(rows - i) : MR;
        size_t kb = (START(pos0 + i) - pa * NR) / NR, ke = (pos0 + i + R - key0 - pa * NR + NR - 1) / NR;
        for (size_t p = kb; p < ke; p++) {
            const float *a = q + i * ldq, *b = packed + (pa + p) * d * NR;
            float *c = scores + i * cols + p * NR;
            if (R == MR) tile(MR, a, ldq, b, d, c, cols, 0, scale, all, all);
            else tile_rest(R, a, ldq, b, d, c, cols, 0, scale, all, all);
        }
    }
    // each row: softmax over its visible keys [lo, end), 0 elsewhere
    for (size_t r = 0; r < rows; r++) {
        size_t pos = pos0 + r, lo = START(pos) - pa * NR, end = pos + 1 - key0 - pa * NR;
        float *row = scores + r * cols;
        memset(row, 0, lo * sizeof(float));
        lep_softmax(row + lo, end - lo);
        memset(row + end, 0, (cols - end) * sizeof(float));
    }
    // out [rows, d] = P·V, per tile over the key panels its rows see (P is 0 elsewhere)
    const float *vp = packed + np * NR * d;
    for (size_t i = 0; i < rows; i += MR) {
        int R = rows - i < MR ? (int)(rows - i) : MR;
        size_t kb = (START(pos0 + i) - pa * NR) / NR * NR, ke = (pos0 + i + R - key0 - pa * NR + NR - 1) / NR * NR;
        for (size_t p = 0; p < dp; p++) {
            size_t c0 = p * NR, w = d - c0 < NR ? d - c0 : NR;
            __mmask16 m0 = w >= 16 ? all : (__mmask16)((1u << w) - 1);
            __mmask16 m1 = w >= 32 ? all : w <= 16 ? 0 : (__mmask16)((1u << (w - 16)) - 1);
            const float *a = scores + i * cols + kb, *b = vp + (p * np * NR + pa * NR + kb) * NR;
            float *c = out + i * ldo + c0;
            if (R == MR) tile(MR, a, cols, b, ke - kb, c, ldo, 0, 1, m0, m1);
            else tile_rest(R, a, cols, b, ke - kb, c, ldo, 0, 1, m0, m1);
        }
    }
}
#endif

int lep_attention_rows(const float *q, size_t ldq, size_t rows, size_t pos0, size_t key0, size_t window,
                       const float *packed, size_t n, size_t d, float scale, float *out, size_t ldo) {
#if GEMM_X86
    if (!lep_gemm_available() || rows == 0) return 0;
    size_t np = (n + NR - 1) / NR;
    size_t first = START(pos0), last = pos0 + rows - 1 - key0;  // keys the block sees, relative
    size_t pa = first / NR, pb = last / NR + 1, cols = (pb - pa) * NR;
    if (pb > np) return 0;
    float *scores = thread_scratch(rows * cols);
    if (!scores) return 0;
    attention_512(q, ldq, rows, pos0, key0, window, packed, np, d, scale, out, ldo, pa, cols, scores);
    return 1;
#else
    (void)q; (void)ldq; (void)rows; (void)pos0; (void)key0; (void)window; (void)packed; (void)n; (void)d;
    (void)scale; (void)out; (void)ldo;
    return 0;
#endif
}
#undef START

void lep_gemm_swiglu_panels(const float *a, size_t m, size_t lda, const void *w_gate, int gate_type, const void *w_up,
                            int up_type, size_t n, size_t k, size_t p_begin, size_t p_end, float *c, size_t ldc) {
    size_t panels = (n + NR - 1) / NR;
    if (p_end > panels) p_end = panels;
    if (p_begin >= p_end || m == 0) return;
#if GEMM_X86
    float *scratch = lep_gemm_available() ? thread_scratch(2 * k * NR + MR * NR) : NULL;
    if (scratch) {
        gemm_swiglu_512(a, m, lda, w_gate, gate_type, w_up, up_type, n, k, p_begin, p_end, c, ldc, scratch);
        return;
    }
#endif
    size_t o_end = p_end * NR < n ? p_end * NR : n;
    for (size_t t = 0; t < m; t++)
        for (size_t o = p_begin * NR; o < o_end; o++) {
            float g = 0, u = 0;
            for (size_t i = 0; i < k; i++) {
                g += a[t * lda + i] * lep_element(w_gate, o * k + i, gate_type);
                u += a[t * lda + i] * lep_element(w_up, o * k + i, up_type);
            }
            c[t * ldc + o] = g;
            lep_swiglu(c + t * ldc + o, &u, 1);
        }
}
