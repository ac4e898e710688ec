// Block Gram products of bfloat16 rows with AVX512-BF16 dot products; see include/lep_kernels.h.
//
// C += Aᵀ·B over a block of n rows: the rows are packed in pairs (row 2p and 2p+1 of one column in one
// 32-bit word), so one VDPBF16PS adds a[2p]·b[2p] + a[2p+1]·b[2p+1] into 16 float32 lanes. Products of
// two bfloat16 values are exact in float32; the block's sums are float32, and each tile of the block's
// result is added into the float64 C when its sum over the block is done. The micro-kernel keeps an
// 6 × 64 tile of C in 24 registers; a B panel (64 columns × the block's pairs) stays in L2 while every
// 6-column tile of A streams past it.
#include "lep_kernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#endif

int lep_gram_bf16_available(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

size_t lep_gram_bf16_packed_words(size_t n, size_t cols, size_t width) {
    size_t tiles = (cols + width - 1) / width, pairs = (n + 1) / 2;
    return tiles * pairs * width;
}

void lep_gram_bf16_pack(const uint16_t *const *rows, size_t n, size_t cols, size_t width, size_t tile_begin,
                        size_t tile_end, uint32_t *dst) {
    size_t pairs = (n + 1) / 2;
    for (size_t t = tile_begin; t < tile_end; t++) {
        size_t c0 = t * width, w = cols - c0 < width ? cols - c0 : width;
        uint32_t *out = dst + t * pairs * width;
        for (size_t p = 0; p < pairs; p++) {
            const uint16_t *r0 = rows[2 * p] + c0, *r1 = 2 * p + 1 < n ? rows[2 * p + 1] + c0 : NULL;
            uint32_t *o = out + p * width;
            size_t x = 0;
            if (r1)
                for (; x < w; x++) o[x] = (uint32_t)r0[x] | (uint32_t)r1[x] << 16;
            else
                for (; x < w; x++) o[x] = r0[x];
            for (; x < width; x++) o[x] = 0;
        }
    }
}

#if defined(__x86_64__)
enum { MR = LEP_GRAM_BF16_A_WIDTH, NV = LEP_GRAM_BF16_B_WIDTH / 16, NR = LEP_GRAM_BF16_B_WIDTH };  // the register tile: MR rows of C × NR columns (NV vectors)

// The MR × NR tile at rows i0.., columns j0.. of C += (float64) acc, only where j > i when strict_upper,
// and only inside [0, k) × [0, m).
BF16 static void store_tile(const __m512 acc[MR][NV], double *c, size_t ldc, size_t i0, size_t j0, size_t k, size_t m,
                            int strict_upper) {
    if (i0 + MR <= k && j0 + NR <= m && (!strict_upper || j0 > i0 + MR - 1)) {
        for (int ii = 0; ii < MR; ii++) {
            double *row = c + (i0 + ii) * ldc + j0;
            for (int q = 0; q < NV; q++) {
                __m256 lo = _mm512_castps512_ps256(acc[ii][q]);
                __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[ii][q]), 1));
                _mm512_storeu_pd(row + 16 * q, _mm512_add_pd(_mm512_loadu_pd(row + 16 * q), _mm512_cvtps_pd(lo)));
                _mm512_storeu_pd(row + 16 * q + 8, _mm512_add_pd(_mm512_loadu_pd(row + 16 * q + 8), _mm512_cvtps_pd(hi)));
            }
        }
        return;
    }
    float tile[MR][NR];
    for (int ii = 0; ii < MR; ii++)
        for (int q = 0; q < NV; q++) _mm512_storeu_ps(tile[ii] + 16 * q, acc[ii][q]);
    for (size_t ii = 0; ii < MR && i0 + ii < k; ii++)
        for (size_t jj = 0; jj < NR && j0 + jj < m; jj++)
            if (!strict_upper || j0 + jj > i0 + ii) c[(i0 + ii) * ldc + j0 + jj] += (double)tile[ii][jj];
}

BF16 static void panels_avx512bf16(const uint32_t *ap, size_t k, const uint32_t *bp, size_t m, size_t pairs, double *c,
                                   size_t ldc, int strict_upper, size_t part, size_t parts) {
    size_t panels = (m + NR - 1) / NR, tiles = (k + MR - 1) / MR;
    for (size_t jp = part; jp < panels; jp += parts) {
        size_t j0 = jp * NR;
        const uint32_t *b = bp + jp * pairs * NR;
        for (size_t it = 0; it < tiles; it++) {
            size_t i0 = it * MR;
            if (strict_upper && i0 + 1 >= j0 + NR) break;  // this and every later tile has j ≤ i
            const uint32_t *a = ap + it * pairs * MR;
            __m512 acc[MR][NV];
            for (int ii = 0; ii < MR; ii++)
                for (int q = 0; q < NV; q++) acc[ii][q] = _mm512_setzero_ps();
            for (size_t p = 0; p < pairs; p++) {
                __m512bh bv[NV];
                for (int q = 0; q < NV; q++) bv[q] = (__m512bh)_mm512_loadu_si512(b + p * NR + 16 * q);
                const uint32_t *ar = a + p * MR;
                for (int ii = 0; ii < MR; ii++) {
                    __m512bh av = (__m512bh)_mm512_set1_epi32((int)ar[ii]);
                    for (int q = 0; q < NV; q++) acc[ii][q] = _mm512_dpbf16_ps(acc[ii][q], av, bv[q]);
                }
            }
            store_tile(acc, c, ldc, i0, j0, k, m, strict_upper);
        }
    }
}
#endif

// Portable version (and the reference of the tests): the same sums, pair by pair, in float32.
static void panels_scalar(const uint32_t *ap, size_t k, const uint32_t *bp, size_t m, size_t pairs, double *c,
                          size_t ldc, int strict_upper, size_t part, size_t parts) {
    const size_t mr = LEP_GRAM_BF16_A_WIDTH, nr = LEP_GRAM_BF16_B_WIDTH, panels = (m + nr - 1) / nr;
    for (size_t jp = part; jp < panels; jp += parts) {
        for (size_t jj = 0; jj < nr && jp * nr + jj < m; jj++) {
            size_t j = jp * nr + jj;
            for (size_t i = 0; i < k && (!strict_upper || i < j); i++) {
                float s = 0;
                for (size_t p = 0; p < pairs; p++) {
                    uint32_t aw = ap[((i / mr) * pairs + p) * mr + i % mr], bw = bp[(jp * pairs + p) * nr + jj];
                    uint32_t a0 = aw << 16, a1 = aw & 0xFFFF0000u, b0 = bw << 16, b1 = bw & 0xFFFF0000u;
                    float fa0, fa1, fb0, fb1;
                    memcpy(&fa0, &a0, 4); memcpy(&fa1, &a1, 4); memcpy(&fb0, &b0, 4); memcpy(&fb1, &b1, 4);
                    s += fa0 * fb0 + fa1 * fb1;
                }
                c[i * ldc + j] += (double)s;
            }
        }
    }
}

void lep_gram_bf16_panels(const uint32_t *ap, size_t k, const uint32_t *bp, size_t m, size_t pairs, double *c,
                          size_t ldc, int strict_upper, size_t part, size_t parts) {
#if defined(__x86_64__)
    if (lep_simd_level() >= LEP_SIMD_AVX512 && lep_gram_bf16_available()) {
        panels_avx512bf16(ap, k, bp, m, pairs, c, ldc, strict_upper, part, parts);
        return;
    }
#endif
    panels_scalar(ap, k, bp, m, pairs, c, ldc, strict_upper, part, parts);
}
