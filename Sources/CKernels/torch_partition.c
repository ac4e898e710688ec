// libstdc++'s __unguarded_partition on (value, index) pairs under torch's sort comparators, with the
// scalar loop's exact swaps; see include/lep_kernels.h.
//
// The scalar loop swaps the k-th "left stop" (scanning up from `first`, an element the pivot does not
// follow) with the k-th "right stop" (scanning down from `last`, an element that does not follow the
// pivot) while they are in order. Between two swaps nothing moves, so the stops can be found on the
// array as it was, a block at a time, as long as the scans also stop where the last swap put a stop
// (the swapped right position holds a left stop and vice versa): left = min(next left stop, last right
// swapped), right = max(next right stop, last left swapped). The blocks are scanned 16 pairs at a time
// with AVX-512 (the positions of the stops compressed into a buffer) or one at a time without branches.
#include "lep_kernels.h"

#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { BLOCK = 256 };

// Which elements stop a scan, given the pivot v (see lep_torch_partition).
enum { STOP_LE = 0, STOP_NOT_LESS = 1, STOP_ALL = 2, STOP_NAN = 3 };

static inline int stops(float x, float v, int kind) {
    switch (kind) {
    case STOP_LE: return x <= v;
    case STOP_NOT_LESS: return !(x < v);
    case STOP_ALL: return 1;
    default: return x != x;
    }
}

// Offsets from lo of the stops in [lo, hi), ascending; returns their count.
static size_t left_stops_portable(const lep_sort_pair *p, ptrdiff_t lo, ptrdiff_t hi, float v, int kind, uint32_t *buf) {
    size_t c = 0;
    for (ptrdiff_t i = lo; i < hi; i++) {
        buf[c] = (uint32_t)(i - lo);
        c += (size_t)stops(p[i].value, v, kind);
    }
    return c;
}

// Offsets hi − i of the stops i in (lo, hi], descending positions; returns their count.
static size_t right_stops_portable(const lep_sort_pair *p, ptrdiff_t hi, ptrdiff_t lo, float v, int kind, uint32_t *buf) {
    size_t c = 0;
    for (ptrdiff_t i = hi; i > lo; i--) {
        buf[c] = (uint32_t)(hi - i);
        c += (size_t)stops(p[i].value, v, kind);
    }
    return c;
}

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi2,popcnt")))

AVX512 static inline __mmask16 stop_mask(__m512 x, __m512 v, int kind) {
    switch (kind) {
    case STOP_LE: return _mm512_cmp_ps_mask(x, v, _CMP_LE_OQ);
    case STOP_NOT_LESS: return _mm512_cmp_ps_mask(x, v, _CMP_NLT_UQ);
    case STOP_ALL: return 0xFFFF;
    default: return _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    }
}

AVX512 static size_t left_stops_512(const lep_sort_pair *p, ptrdiff_t lo, ptrdiff_t hi, float v, int kind, uint32_t *buf) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 vv = _mm512_set1_ps(v);
    size_t c = 0;
    ptrdiff_t i = lo;
    for (; i + 16 <= hi; i += 16) {
        __m512 a = _mm512_loadu_ps((const float *)(p + i)), b = _mm512_loadu_ps((const float *)(p + i + 8));
        __mmask16 m = stop_mask(_mm512_permutex2var_ps(a, even, b), vv, kind);
        __m512i at = _mm512_add_epi32(_mm512_set1_epi32((int)(i - lo)), lanes);
        // The register form of compress (the memory form is slow on some CPUs); buf has 16 spare slots.
        _mm512_storeu_si512((void *)(buf + c), _mm512_maskz_compress_epi32(m, at));
        c += (size_t)__builtin_popcount(m);
    }
    for (; i < hi; i++) {
        buf[c] = (uint32_t)(i - lo);
        c += (size_t)stops(p[i].value, v, kind);
    }
    return c;
}

AVX512 static size_t right_stops_512(const lep_sort_pair *p, ptrdiff_t hi, ptrdiff_t lo, float v, int kind, uint32_t *buf) {
    // Lane t holds position j − t: the values of pairs j − 15 … j, reversed.
    const __m512i reversed = _mm512_setr_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 vv = _mm512_set1_ps(v);
    size_t c = 0;
    ptrdiff_t j = hi;
    for (; j - 16 >= lo; j -= 16) {
        const lep_sort_pair *q = p + j - 15;
        __m512 a = _mm512_loadu_ps((const float *)q), b = _mm512_loadu_ps((const float *)(q + 8));
        __mmask16 m = stop_mask(_mm512_permutex2var_ps(a, reversed, b), vv, kind);
        __m512i at = _mm512_add_epi32(_mm512_set1_epi32((int)(hi - j)), lanes);
        _mm512_storeu_si512((void *)(buf + c), _mm512_maskz_compress_epi32(m, at));
        c += (size_t)__builtin_popcount(m);
    }
    for (; j > lo; j--) {
        buf[c] = (uint32_t)(hi - j);
        c += (size_t)stops(p[j].value, v, kind);
    }
    return c;
}
#endif

typedef size_t (*scan_fn)(const lep_sort_pair *, ptrdiff_t, ptrdiff_t, float, int, uint32_t *);

ptrdiff_t lep_torch_partition(lep_sort_pair *p, ptrdiff_t first, ptrdiff_t last, float v, int descending) {
    int vnan = v != v;
    // descending (a before b: a > b, NaN first): left stops x ≤ v, right stops !(x < v);
    // ascending (a before b: a < b, NaN last): left stops !(x < v), right stops x ≤ v.
    int left_kind = descending ? (vnan ? STOP_ALL : STOP_LE) : (vnan ? STOP_NAN : STOP_NOT_LESS);
    int right_kind = descending ? (vnan ? STOP_NAN : STOP_NOT_LESS) : (vnan ? STOP_ALL : STOP_LE);
    scan_fn left_scan = left_stops_portable, right_scan = right_stops_portable;
#if defined(__x86_64__)
    if (lep_simd_level() == LEP_SIMD_AVX512) {
        left_scan = left_stops_512;
        right_scan = right_stops_512;
    }
#endif
    uint32_t lbuf[BLOCK + 16], rbuf[BLOCK + 16];
    size_t l_count = 0, l_index = 0, r_count = 0, r_index = 0;
    ptrdiff_t l_next = first, r_next = last - 1, l_base = first, r_base = last - 1;
    ptrdiff_t last_l = first - 1, last_r = last;  // the last swapped pair (none yet: just outside)
    for (;;) {
        ptrdiff_t left = last_r;
        for (;;) {
            if (l_index < l_count) {
                ptrdiff_t s = l_base + lbuf[l_index++];
                left = s < last_r ? s : last_r;
                break;
            }
            if (l_next >= last_r) break;
            ptrdiff_t end = l_next + BLOCK < last_r ? l_next + BLOCK : last_r;
            l_count = left_scan(p, l_next, end, v, left_kind, lbuf);
            l_index = 0;
            l_base = l_next;
            l_next = end;
        }
        ptrdiff_t right = last_l;
        for (;;) {
            if (r_index < r_count) {
                ptrdiff_t s = r_base - rbuf[r_index++];
                right = s > last_l ? s : last_l;
                break;
            }
            if (r_next <= last_l) break;
            ptrdiff_t end = r_next - BLOCK > last_l ? r_next - BLOCK : last_l;
            r_count = right_scan(p, r_next, end, v, right_kind, rbuf);
            r_index = 0;
            r_base = r_next;
            r_next = end;
        }
        if (!(left < right)) return left;
        lep_sort_pair t = p[left];
        p[left] = p[right];
        p[right] = t;
        last_l = left;
        last_r = right;
    }
}

// ---- The pairs of a magnitude selection ----

static inline __attribute__((always_inline)) float widen_bf16(uint16_t h) {
    union {
        uint32_t u;
        float f;
    } c = {(uint32_t)h << 16};
    return c.f;
}

static inline __attribute__((always_inline)) void pairs_body(const float *d, const uint16_t *x, const uint16_t *b,
                                                             size_t n, uint32_t first, lep_sort_pair *out) {
    if (d) {
        for (size_t j = 0; j < n; j++) {
            out[j].value = fabsf(d[j]);
            out[j].index = first + (uint32_t)j;
        }
    } else {
        for (size_t j = 0; j < n; j++) {
            out[j].value = fabsf(widen_bf16(x[j]) - widen_bf16(b[j]));
            out[j].index = first + (uint32_t)j;
        }
    }
}

static inline __attribute__((always_inline)) float threshold_body(const lep_sort_pair *p, size_t k, uint64_t *bits) {
    float t = INFINITY;
    size_t numbers = 0;
    for (size_t i = 0; i < k; i++) {
        float v = p[i].value;
        t = v < t ? v : t;
        numbers += v == v;
    }
    if (numbers == 0) t = NAN;
    int t_nan = t != t;
    for (size_t i = 0; i < k; i++) {
        float v = p[i].value;
        if (v == t || (t_nan && v != v)) bits[p[i].index >> 6] |= (uint64_t)1 << (p[i].index & 63);
    }
    return t;
}

#if defined(__x86_64__)
AVX512 static void pairs_512(const float *d, const uint16_t *x, const uint16_t *b, size_t n, uint32_t first, lep_sort_pair *out) {
    pairs_body(d, x, b, n, first, out);
}
AVX512 static inline __m512 values_512(const lep_sort_pair *p) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps((const float *)p), even, _mm512_loadu_ps((const float *)(p + 8)));
}

// threshold_body 16 pairs at a time: min(v, t) keeps t when v is NaN, as v < t ? v : t does.
AVX512 static float threshold_512(const lep_sort_pair *p, size_t k, uint64_t *bits) {
    __m512 tv = _mm512_set1_ps(INFINITY);
    size_t numbers = 0, i = 0;
    for (; i + 16 <= k; i += 16) {
        __m512 v = values_512(p + i);
        tv = _mm512_min_ps(v, tv);
        numbers += (size_t)__builtin_popcount(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q));
    }
    float t = _mm512_reduce_min_ps(tv);
    for (; i < k; i++) {
        float v = p[i].value;
        t = v < t ? v : t;
        numbers += v == v;
    }
    if (numbers == 0) t = NAN;
    int t_nan = t != t;
    __m512 tt = _mm512_set1_ps(t);
    for (i = 0; i + 16 <= k; i += 16) {
        __m512 v = values_512(p + i);
        __mmask16 m = t_nan ? _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) : _mm512_cmp_ps_mask(v, tt, _CMP_EQ_OQ);
        while (m) {
            const lep_sort_pair *q = p + i + __builtin_ctz(m);
            bits[q->index >> 6] |= (uint64_t)1 << (q->index & 63);
            m &= (__mmask16)(m - 1);
        }
    }
    for (; i < k; i++) {
        float v = p[i].value;
        if (v == t || (t_nan && v != v)) bits[p[i].index >> 6] |= (uint64_t)1 << (p[i].index & 63);
    }
    return t;
}
#endif

static void pairs_portable(const float *d, const uint16_t *x, const uint16_t *b, size_t n, uint32_t first, lep_sort_pair *out) {
    pairs_body(d, x, b, n, first, out);
}

void lep_magnitude_pairs(const float *d, const uint16_t *x, const uint16_t *b, size_t n, uint32_t first, lep_sort_pair *out) {
#if defined(__x86_64__)
    if (lep_simd_level() == LEP_SIMD_AVX512) {
        pairs_512(d, x, b, n, first, out);
        return;
    }
#endif
    pairs_portable(d, x, b, n, first, out);
}

float lep_kept_threshold(const lep_sort_pair *p, size_t k, uint64_t *bits) {
#if defined(__x86_64__)
    if (lep_simd_level() == LEP_SIMD_AVX512) return threshold_512(p, k, bits);
#endif
    return threshold_body(p, k, bits);
}
