// Matrix products of the forward pass's long passes (prefill): C = A·Wᵀ with the weights W read in
// place from the checkpoint's storage (F32, BF16 or F16); see include/lep_kernels.h.
//
// Blocking (AVX-512): W is taken LEP_GEMM_PANEL = 32 output features at a time. A panel's 32 rows of W
// are packed once into scratch as Float32 [k][32] (gathers read two 16-bit values per lane: the
// conversion costs nothing extra), then a 14 × 32 register tile (28 accumulators) runs over every
// block of 14 rows of A for the whole k: per element of k, two loads of the panel and 14 broadcasts
// from the rows of A, read in place (no packing of A). The panel (k·128 bytes) stays in L2 while
// A streams; each tile of C is written once (added to C when accumulating).
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

enum { NR = LEP_GEMM_PANEL, MR = 14 };

#if GEMM_X86
// Packs rows [n0, n0 + 32) of w [n, k] into bp[kk*32 + r] as floats (rows past n are 0).
static AVX512 void pack_panel(const void *w, int type, size_t n, size_t k, size_t n0, float *bp) {
    size_t rows = n - n0 < NR ? n - n0 : NR;
    __mmask16 g0 = rows >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rows) - 1);
    __mmask16 g1 = rows >= 32 ? (__mmask16)0xFFFF : rows <= 16 ? 0 : (__mmask16)((1u << (rows - 16)) - 1);
    size_t size = type == LEP_F32 ? 4 : 2;
    // Byte offsets of rows 0..15 and 16..31 of the panel.
    __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i off0 = _mm512_mullo_epi32(lanes, _mm512_set1_epi32((int)(k * size)));
    __m512i off1 = _mm512_add_epi32(off0, _mm512_set1_epi32((int)(16 * k * size)));
    const char *base = (const char *)w + n0 * k * size;
    __m512i zero = _mm512_setzero_si512();
    size_t kk = 0;
    if (type == LEP_F32) {
        for (; kk < k; kk++) {
            const char *p = base + kk * 4;
            _mm512_storeu_si512(bp + kk * NR, _mm512_mask_i32gather_epi32(zero, g0, off0, p, 1));
            _mm512_storeu_si512(bp + kk * NR + 16, _mm512_mask_i32gather_epi32(zero, g1, off1, p, 1));
        }
        return;
    }
    // 16-bit: each lane gathers the pair (kk, kk + 1) of its row.
    __m512i high = _mm512_set1_epi32((int)0xFFFF0000);
    for (; kk + 2 <= k; kk += 2) {
        const char *p = base + kk * 2;
        __m512i a = _mm512_mask_i32gather_epi32(zero, g0, off0, p, 1);
        __m512i b = _mm512_mask_i32gather_epi32(zero, g1, off1, p, 1);
        float *d = bp + kk * NR;
        if (type == LEP_BF16) {
            _mm512_storeu_si512(d, _mm512_slli_epi32(a, 16));
            _mm512_storeu_si512(d + 16, _mm512_slli_epi32(b, 16));
            _mm512_storeu_si512(d + 32, _mm512_and_si512(a, high));
            _mm512_storeu_si512(d + 48, _mm512_and_si512(b, high));
        } else {
            _mm512_storeu_ps(d, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(a)));
            _mm512_storeu_ps(d + 16, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(b)));
            _mm512_storeu_ps(d + 32, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(a, 16))));
            _mm512_storeu_ps(d + 48, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(b, 16))));
        }
    }
    for (; kk < k; kk++)  // odd k: the last column
        for (size_t r = 0; r < NR; r++) bp[kk * NR + r] = r < rows ? lep_element(w, (n0 + r) * k + kk, type) : 0;
}

// C rows [0, R) × the panel's columns (masks m0, m1) = (acc ? C : 0) + A[0..R)·panelᵀ over k.
INLINE AVX512 void tile(int R, const float *a, size_t lda, const float *bp, size_t k, float *c, size_t ldc, int acc,
                        __mmask16 m0, __mmask16 m1) {
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
                             int acc, __mmask16 m0, __mmask16 m1) {
    switch (R) {
#define TILE(r) \
    case r: tile(r, a, lda, bp, k, c, ldc, acc, m0, m1); break;
        TILE(1) TILE(2) TILE(3) TILE(4) TILE(5) TILE(6) TILE(7) TILE(8) TILE(9) TILE(10) TILE(11) TILE(12) TILE(13)
#undef TILE
    default: break;
    }
}

static AVX512 void gemm_512(const float *a, size_t m, size_t lda, const void *w, int type, size_t n, size_t k,
                            size_t p_begin, size_t p_end, float *c, size_t ldc, int acc, float *scratch) {
    for (size_t p = p_begin; p < p_end; p++) {
        size_t n0 = p * NR, cols = n - n0 < NR ? n - n0 : NR;
        pack_panel(w, type, n, k, n0, scratch);
        __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
        __mmask16 m1 = cols >= 32 ? (__mmask16)0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
        size_t i = 0;
        for (; i + MR <= m; i += MR) tile(MR, a + i * lda, lda, scratch, k, c + i * ldc + n0, ldc, acc, m0, m1);
        if (i < m) tile_rest((int)(m - i), a + i * lda, lda, scratch, k, c + i * ldc + n0, ldc, acc, m0, m1);
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
