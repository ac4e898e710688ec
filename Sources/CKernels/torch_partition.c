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

// The stop kinds and scanners for pivot v in the given order.
typedef struct {
    int left_kind, right_kind;
    scan_fn left_scan, right_scan;
} stops_t;

static stops_t stops_for(float v, int descending) {
    int vnan = v != v;
    stops_t s;
    // descending (a before b: a > b, NaN first): left stops x ≤ v, right stops !(x < v);
    // ascending (a before b: a < b, NaN last): left stops !(x < v), right stops x ≤ v.
    s.left_kind = descending ? (vnan ? STOP_ALL : STOP_LE) : (vnan ? STOP_NAN : STOP_NOT_LESS);
    s.right_kind = descending ? (vnan ? STOP_NAN : STOP_NOT_LESS) : (vnan ? STOP_ALL : STOP_LE);
    s.left_scan = left_stops_portable;
    s.right_scan = right_stops_portable;
#if defined(__x86_64__)
    if (lep_simd_level() == LEP_SIMD_AVX512) {
        s.left_scan = left_stops_512;
        s.right_scan = right_stops_512;
    }
#endif
    return s;
}

ptrdiff_t lep_torch_partition(lep_sort_pair *p, ptrdiff_t first, ptrdiff_t last, float v, int descending) {
    stops_t st = stops_for(v, descending);
    int left_kind = st.left_kind, right_kind = st.right_kind;
    scan_fn left_scan = st.left_scan, right_scan = st.right_scan;
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

// ---- The same partition split between threads (see lep_count_stops) ----

#if defined(__x86_64__)
AVX512 static void count_512(const lep_sort_pair *p, ptrdiff_t lo, ptrdiff_t hi, float v, int lk, int rk, size_t *left,
                             size_t *right) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512 vv = _mm512_set1_ps(v);
    size_t l = 0, r = 0;
    ptrdiff_t i = lo;
    for (; i + 16 <= hi; i += 16) {
        __m512 x = _mm512_permutex2var_ps(_mm512_loadu_ps((const float *)(p + i)), even,
                                          _mm512_loadu_ps((const float *)(p + i + 8)));
        l += (size_t)__builtin_popcount(stop_mask(x, vv, lk));
        r += (size_t)__builtin_popcount(stop_mask(x, vv, rk));
    }
    for (; i < hi; i++) {
        l += (size_t)stops(p[i].value, v, lk);
        r += (size_t)stops(p[i].value, v, rk);
    }
    *left = l;
    *right = r;
}
#endif

void lep_count_stops(const lep_sort_pair *p, ptrdiff_t lo, ptrdiff_t hi, float v, int descending, size_t *left,
                     size_t *right) {
    stops_t st = stops_for(v, descending);
#if defined(__x86_64__)
    if (lep_simd_level() == LEP_SIMD_AVX512) {
        count_512(p, lo, hi, v, st.left_kind, st.right_kind, left, right);
        return;
    }
#endif
    size_t l = 0, r = 0;
    for (ptrdiff_t i = lo; i < hi; i++) {
        l += (size_t)stops(p[i].value, v, st.left_kind);
        r += (size_t)stops(p[i].value, v, st.right_kind);
    }
    *left = l;
    *right = r;
}

ptrdiff_t lep_nth_stop(const lep_sort_pair *p, ptrdiff_t lo, ptrdiff_t hi, size_t n, float v, int descending, int right) {
    stops_t st = stops_for(v, descending);
    uint32_t buf[BLOCK + 16];
    if (!right) {
        for (ptrdiff_t a = lo; a < hi; a += BLOCK) {
            ptrdiff_t b = hi - a < BLOCK ? hi : a + BLOCK;
            size_t c = st.left_scan(p, a, b, v, st.left_kind, buf);
            if (n < c) return a + buf[n];
            n -= c;
        }
    } else {
        for (ptrdiff_t b = hi - 1; b >= lo; b -= BLOCK) {
            ptrdiff_t a = b - lo < BLOCK ? lo - 1 : b - BLOCK;
            size_t c = st.right_scan(p, b, a, v, st.right_kind, buf);
            if (n < c) return b - buf[n];
            n -= c;
        }
    }
    return -1;
}

size_t lep_stops_crossing(const lep_sort_pair *p, ptrdiff_t lo, ptrdiff_t hi, size_t left_before, size_t right_from,
                          float v, int descending) {
    stops_t st = stops_for(v, descending);
    size_t a = left_before, b = right_from, best = a < b ? a : b;
    // a rises and b falls with the position: a stretch where a stays ≤ b (its best at its end) or
    // starts ≥ b (its best at its start) is only counted; the stretch where they cross is walked.
    enum { STRETCH = 4096 };
    while (hi - lo > STRETCH) {
        size_t l, r;
        lep_count_stops(p, lo, lo + STRETCH, v, descending, &l, &r);
        if (a + l <= b - r) {
            a += l;
            b -= r;
            best = a < b ? a : b;
            lo += STRETCH;
        } else if (a >= b) {
            return best;
        } else {
            hi = lo + STRETCH;
        }
    }
    for (ptrdiff_t i = lo; i < hi; i++) {
        a += (size_t)stops(p[i].value, v, st.left_kind);
        b -= (size_t)stops(p[i].value, v, st.right_kind);
        size_t m = a < b ? a : b;
        best = m > best ? m : best;
    }
    return best;
}

void lep_swap_stops(lep_sort_pair *p, ptrdiff_t l, ptrdiff_t l_end, ptrdiff_t r, ptrdiff_t r_end, size_t count, float v,
                    int descending) {
    stops_t st = stops_for(v, descending);
    uint32_t lbuf[BLOCK + 16], rbuf[BLOCK + 16];
    size_t l_count = 0, l_index = 0, r_count = 0, r_index = 0;
    ptrdiff_t l_next = l, r_next = r, l_base = l, r_base = r;
    for (size_t k = 0; k < count; k++) {
        while (l_index == l_count) {
            if (l_next >= l_end) return;  // fewer stops than asked (a caller's error): stop, never loop
            ptrdiff_t end = l_next + BLOCK < l_end ? l_next + BLOCK : l_end;
            l_count = st.left_scan(p, l_next, end, v, st.left_kind, lbuf);
            l_index = 0;
            l_base = l_next;
            l_next = end;
        }
        while (r_index == r_count) {
            if (r_next <= r_end) return;
            ptrdiff_t end = r_next - BLOCK > r_end ? r_next - BLOCK : r_end;
            r_count = st.right_scan(p, r_next, end, v, st.right_kind, rbuf);
            r_index = 0;
            r_base = r_next;
            r_next = end;
        }
        ptrdiff_t a = l_base + lbuf[l_index++], b = r_base - rbuf[r_index++];
        lep_sort_pair t = p[a];
        p[a] = p[b];
        p[b] = t;
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

#if defined(__x86_64__)
AVX512 static void pairs_512(const float *d, const uint16_t *x, const uint16_t *b, size_t n, uint32_t first, lep_sort_pair *out) {
    pairs_body(d, x, b, n, first, out);
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

// ---- The threshold of a selection and its ties ----

static inline __attribute__((always_inline)) void set_bit(uint64_t *bits, uint32_t i) {
    __atomic_fetch_or(bits + (i >> 6), (uint64_t)1 << (i & 63), __ATOMIC_RELAXED);
}

#if defined(__x86_64__)
AVX512 static inline __m512 values_512(const lep_sort_pair *p) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps((const float *)p), even, _mm512_loadu_ps((const float *)(p + 8)));
}

// min(v, t) keeps t when v is NaN, as v < t ? v : t does.
AVX512 static float kept_min_512(const lep_sort_pair *p, size_t k, size_t *numbers) {
    __m512 tv = _mm512_set1_ps(INFINITY);
    size_t count = 0, i = 0;
    for (; i + 16 <= k; i += 16) {
        __m512 v = values_512(p + i);
        tv = _mm512_min_ps(v, tv);
        count += (size_t)__builtin_popcount(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q));
    }
    float t = _mm512_reduce_min_ps(tv);
    for (; i < k; i++) {
        float v = p[i].value;
        t = v < t ? v : t;
        count += v == v;
    }
    *numbers = count;
    return t;
}

AVX512 static void mark_ties_512(const lep_sort_pair *p, size_t k, float t, uint64_t *bits) {
    int t_nan = t != t;
    __m512 tt = _mm512_set1_ps(t);
    size_t i = 0;
    for (; i + 16 <= k; i += 16) {
        __m512 v = values_512(p + i);
        __mmask16 m = t_nan ? _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) : _mm512_cmp_ps_mask(v, tt, _CMP_EQ_OQ);
        while (m) {
            set_bit(bits, p[i + (size_t)__builtin_ctz(m)].index);
            m &= (__mmask16)(m - 1);
        }
    }
    for (; i < k; i++) {
        float v = p[i].value;
        if (v == t || (t_nan && v != v)) set_bit(bits, p[i].index);
    }
}
#endif

float lep_kept_min(const lep_sort_pair *p, size_t k, size_t *numbers) {
#if defined(__x86_64__)
    if (lep_simd_level() == LEP_SIMD_AVX512) return kept_min_512(p, k, numbers);
#endif
    float t = INFINITY;
    size_t count = 0;
    for (size_t i = 0; i < k; i++) {
        float v = p[i].value;
        t = v < t ? v : t;
        count += v == v;
    }
    *numbers = count;
    return t;
}

void lep_mark_ties(const lep_sort_pair *p, size_t k, float t, uint64_t *bits) {
#if defined(__x86_64__)
    if (lep_simd_level() == LEP_SIMD_AVX512) {
        mark_ties_512(p, k, t, bits);
        return;
    }
#endif
    int t_nan = t != t;
    for (size_t i = 0; i < k; i++) {
        float v = p[i].value;
        if (v == t || (t_nan && v != v)) set_bit(bits, p[i].index);
    }
}
