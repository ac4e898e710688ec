// Vector kernels of the forward pass (x86-64: AVX-512 or AVX2 chosen at run time; portable C elsewhere).
//
// Weights are raw little-endian element buffers of one of three types, at any alignment:
// LEP_F32, LEP_BF16 (top half of a binary32) or LEP_F16 (IEEE binary16); 16-bit values are widened
// exactly to float and every product and sum is in float. Results equal a float32 reference up to
// the order of the additions.
#ifndef LEP_KERNELS_H
#define LEP_KERNELS_H

#include <stddef.h>
#include <stdint.h>

enum { LEP_F32 = 0, LEP_BF16 = 1, LEP_F16 = 2 };
enum { LEP_SIMD_SCALAR = 0, LEP_SIMD_AVX2 = 1, LEP_SIMD_AVX512 = 2 };

/// The instruction set the kernels use on this thread (the best the CPU has unless lowered by lep_simd_limit).
int lep_simd_level(void);
/// Caps the instruction set of the calling thread's kernel calls at `level` (LEP_SIMD_*; the CPU's best
/// when higher); returns the level in use. For tests that compare the code paths; other threads
/// (including the workers of a parallel kernel) keep the CPU's best.
int lep_simd_limit(int level);

/// A linear layer without bias on a few rows, for output features o in [o_begin, o_end):
/// y[t*ldy + o] = (accumulate ? y[t*ldy + o] : 0) + Σ_i x[t*ldx + i] · w[o*in + i], for t < rows.
/// w is [out, in] row-major of type `wtype` (PyTorch's nn.Linear layout). Each weight row is read
/// from memory once for all rows of x (the rows are meant to be few: decoding).
void lep_linear_rows(const float *x, size_t rows, size_t ldx, const void *w, int wtype, size_t in,
                     size_t o_begin, size_t o_end, float *y, size_t ldy, int accumulate);

/// The MLP's gated activation fused into its two products, for the panels [p_begin, p_end) of n features:
/// c[t*ldc + o] = silu(Σ_i a[t*lda + i]·w_gate[o*k + i]) · Σ_i a[t*lda + i]·w_up[o*k + i] (silu as lep_swiglu),
/// each sum as in lep_gemm_panels; the weights [n, k] of types gate_type / up_type read in place.
void lep_gemm_swiglu_panels(const float *a, size_t m, size_t lda, const void *w_gate, int gate_type, const void *w_up,
                            int up_type, size_t n, size_t k, size_t p_begin, size_t p_end, float *c, size_t ldc);

/// Floats lep_attention_pack writes for one KV head of n positions and head size d.
size_t lep_attention_packed_floats(size_t n, size_t d);

/// Packs the keys and values of one KV head (position s's d floats at keys + s*ld and values + s*ld,
/// s < n) into dst (lep_attention_packed_floats(n, d) floats) for lep_attention_rows.
void lep_attention_pack(const float *keys, const float *values, size_t ld, size_t n, size_t d, float *dst);

/// Causal attention of `rows` query rows of one head (row r: d floats at q + r*ldq, at position
/// pos0 + r) on the keys/values packed by lep_attention_pack (key s at position key0 + s, s < n):
/// out[r*ldo + i] = Σ_s softmax_s(scale · q_r·k_s) v_s[i] over the keys s at positions
/// [max(0, pos − window + 1), pos] (window 0: no window), computed as two tiled products (scores of
/// the block's keys, masked softmax per row, then by V). Returns 0 (and writes nothing) when the GEMM
/// kernel is unavailable (lep_gemm_available) or the rows' positions are not covered by the n keys.
int lep_attention_rows(const float *q, size_t ldq, size_t rows, size_t pos0, size_t key0, size_t window,
                       const float *packed, size_t n, size_t d, float scale, float *out, size_t ldo);

/// Element i of w (of type `type`) widened to float.
float lep_element(const void *w, size_t i, int type);

/// dst[i] = src[i] widened to float, for i < count (src of type `type`).
void lep_to_f32(const void *src, int type, float *dst, size_t count);

/// Softmax of x[0..n) in place: exp(x − max) / Σ exp(x − max).
void lep_softmax(float *x, size_t n);

/// RMSNorm of one row: y[i] = w[i] · (x[i] · r) with r = 1 / √(Σ x[i]² / n + eps), sums in float (y may equal x).
void lep_rmsnorm(const float *x, const float *w, float eps, size_t n, float *y);

/// gate[i] = silu(gate[i]) · up[i] with silu(z) = z / (1 + exp(−z)), for i < n.
void lep_swiglu(float *gate, const float *up, size_t n);

/// Attention of one query row on one head over n positions:
/// a_s = softmax_s(scale · q·k_s), out = Σ_s a_s v_s, where k_s = keys + s*ld and v_s = values + s*ld
/// hold d floats. `scores` is scratch for n floats (it holds the a_s afterwards).
void lep_attend(const float *q, const float *keys, const float *values, size_t n, size_t ld, size_t d,
                float scale, float *scores, float *out);

/// The same attention with the keys transposed: keys_t is [d, ldk] row-major (element (i, s) at
/// keys_t[i*ldk + s]), so the n scores are computed 16 at a time without horizontal sums (prefill,
/// where one transposition serves every query row of a KV head).
void lep_attend_t(const float *q, const float *keys_t, size_t ldk, const float *values, size_t n, size_t ld, size_t d,
                  float scale, float *scores, float *out);

// ---- Matrix products of long passes (gemm.c) ----
/// Output features per panel of lep_gemm_panels.
enum { LEP_GEMM_PANEL = 32 };

/// Whether lep_gemm_panels runs its vector code on this thread (AVX-512); otherwise it is a plain
/// triple loop (correct, slow) and callers use BLAS.
int lep_gemm_available(void);

/// A linear layer without bias on many rows, for the output features of panels [p_begin, p_end)
/// (panel p: features [32p, min(32p + 32, n))): c[t*ldc + o] = (accumulate ? c[t*ldc + o] : 0) +
/// Σ_i a[t*lda + i] · w[o*k + i] for t < m, with w [n, k] row-major of type `wtype` read in place (the
/// rows of a panel are converted to float as they are used, into a buffer of k * LEP_GEMM_PANEL floats
/// that each thread keeps).
/// Each sum runs over i in order in float (fused multiply-adds).
void lep_gemm_panels(const float *a, size_t m, size_t lda, const void *w, int wtype, size_t n, size_t k,
                     size_t p_begin, size_t p_end, float *c, size_t ldc, int accumulate);

// ---- Parallel regions on persistent threads (pool.c) ----
/// One participant's share of a parallel region: called as fn(ctx, i) for participant i.
typedef void (*lep_pool_fn)(void *ctx, size_t participant);

/// Calls fn(ctx, i) once for every i in [0, participants), each on whichever thread claims it first:
/// the calling thread or one of participants − 1 persistent worker threads (started on first use;
/// between regions they poll for ~0.02 ms, then sleep), so a worker that is slow to start is not
/// waited for; returns 1 when all calls have returned. Returns 0 without calling fn when the pool is
/// busy (a region of another thread, or a region started inside a region), when threads cannot be
/// started, for participants < 2, or off Linux: the caller then runs the region another way.
int lep_pool_run(size_t participants, lep_pool_fn fn, void *ctx);

/// exp(x[i]) into y[i] with the kernels' exponential (for tests; y may equal x).
void lep_exp(const float *x, float *y, size_t n);

// ---- Gram blocks of bfloat16 rows (gram_bf16.c) ----
// C += Aᵀ·B for a block of n rows a_r (k bfloat16 values) and b_r (m values): C[i, j] += Σ_r a_r[i]·b_r[j],
// each product exact in float32, the block's sums in float32 (AVX512-BF16 VDPBF16PS: pairs of rows per
// instruction), each finished sum added into the float64 C. The rows are first packed: a word holds one
// column of rows 2p (low half) and 2p+1 (high half), in tiles of `width` columns (LEP_GRAM_BF16_A_WIDTH for A, LEP_GRAM_BF16_B_WIDTH for B).
enum { LEP_GRAM_BF16_A_WIDTH = 6, LEP_GRAM_BF16_B_WIDTH = 64 };

/// Whether the CPU has AVX512-BF16 (else lep_gram_bf16_panels runs a slow portable loop: callers use
/// float32 BLAS instead).
int lep_gram_bf16_available(void);

/// 32-bit words of a packed block: ceil(cols / width) tiles × ceil(n / 2) pairs × width.
size_t lep_gram_bf16_packed_words(size_t n, size_t cols, size_t width);

/// Packs column tiles [tile_begin, tile_end) of n rows (`rows[r]` points at `cols` bfloat16 values)
/// into dst (lep_gram_bf16_packed_words words in all; a missing last odd row and columns past `cols` are 0).
void lep_gram_bf16_pack(const uint16_t *const *rows, size_t n, size_t cols, size_t width, size_t tile_begin,
                        size_t tile_end, uint32_t *dst);

/// c[i*ldc + j] += Σ over the packed pairs of a[i]·b[j] for i < k, j < m (j > i only when strict_upper),
/// for the LEP_GRAM_BF16_B_WIDTH-column panels jp of B with jp % parts == part (callers run parts on threads; panels
/// interleave so the triangle's work is shared evenly). ap: A packed with width LEP_GRAM_BF16_A_WIDTH, bp: B with
/// width LEP_GRAM_BF16_B_WIDTH.
void lep_gram_bf16_panels(const uint32_t *ap, size_t k, const uint32_t *bp, size_t m, size_t pairs, double *c,
                          size_t ldc, int strict_upper, size_t part, size_t parts);

// ---- Plain task arithmetic on bfloat16 tensors (task_arithmetic.c) ----
/// For j in [offset, offset + count): with b = base[j] and x_i = inputs[i][j] widened to float,
/// m = 0 + (x_0 − b)·w_0 + (x_1 − b)·w_1 + … (each product and sum rounded to float, in that order),
/// then m = m / divisor when `normalize`, m = m · lambda when lambda ≠ 1, and y = b + m, rounded to
/// bfloat16 (nearest even; a NaN keeps its sign and payload top bits and is quietened) into
/// out[j − offset], or stored unrounded into out_f32[j − offset] when out_f32 is not NULL (for other
/// output types; out is then unused). Returns how many y were NaN or infinite (before rounding).
size_t lep_task_arithmetic_bf16(const uint16_t *base, const uint16_t *const *inputs, const float *weights,
                                size_t n_inputs, size_t offset, size_t count, int normalize, float divisor,
                                float lambda, uint16_t *out, float *out_f32);

// ---- torch's sort partition on (value, index) pairs (torch_partition.c) ----
/// A float with its original index, moved as one (torch's composite key/index accessor).
typedef struct {
    float value;
    uint32_t index;
} lep_sort_pair;

/// libstdc++'s `__unguarded_partition` of p[first, last) around the pivot value v (the pivot element lies
/// before `first`), ordered as torch's CPU sort orders floats: descending (a before b when a > b, NaN
/// before every number) or ascending (a < b, NaN after every number). Makes exactly the scalar loop's
/// swaps and returns its cut. As unguarded as the original: some element at or after `first` must stop
/// the upward scan and some element at or before `last` − 1 the downward one (the median-of-three pivot
/// guarantees both).
ptrdiff_t lep_torch_partition(lep_sort_pair *p, ptrdiff_t first, ptrdiff_t last, float v, int descending);

/// lep_torch_partition split between threads. Its k-th swap exchanges the k-th "left stop" from the
/// start (an element the pivot does not come before) with the k-th "right stop" from the end (an element
/// that does not come before the pivot), for k = 1 … K, the largest k whose left stop lies before its
/// right stop; the cut is then min(left stop K + 1, right stop K) (left stop 1 when K = 0). These
/// count the stops of a block, find the n-th (0-based) stop of a block (upwards from lo for left stops,
/// downwards from hi − 1 for right stops; −1 when there are fewer), give K as max over positions q of
/// min(left stops before q, right stops at or after q) within [lo, hi] from the counts at lo and hi,
/// and make `count` consecutive swaps from the left stop at l and the right stop at r, scanning
/// [l, l_end) upwards and (r_end, r] downwards only. Stops are of the array before any swap: the
/// swaps of one range never touch the stops another range scans.
void lep_count_stops(const lep_sort_pair *p, ptrdiff_t lo, ptrdiff_t hi, float v, int descending, size_t *left,
                     size_t *right);
ptrdiff_t lep_nth_stop(const lep_sort_pair *p, ptrdiff_t lo, ptrdiff_t hi, size_t n, float v, int descending, int right);
size_t lep_stops_crossing(const lep_sort_pair *p, ptrdiff_t lo, ptrdiff_t hi, size_t left_before, size_t right_from,
                          float v, int descending);
void lep_swap_stops(lep_sort_pair *p, ptrdiff_t l, ptrdiff_t l_end, ptrdiff_t r, ptrdiff_t r_end, size_t count, float v,
                    int descending);

/// The pairs (|δ_j|, first + j) for j < n of a magnitude selection: δ from `d` (float32), or, when d is
/// NULL, δ_j = x_j − b_j for bfloat16 x and b (widened exactly, the difference rounded to float).
void lep_magnitude_pairs(const float *d, const uint16_t *x, const uint16_t *b, size_t n, uint32_t first,
                         lep_sort_pair *out);

/// The kept pairs of a selection in descending order (the first k) end at T, their smallest number
/// (NaN when all are NaN). lep_kept_min returns the smallest number of p[0, k) (+∞ if none) and how
/// many numbers there are; lep_mark_ties sets bit `index` of `bits` (atomically: ranges may be marked
/// from several threads) for every pair of p[0, k) whose value equals t (every NaN when t is NaN).
float lep_kept_min(const lep_sort_pair *p, size_t k, size_t *numbers);
void lep_mark_ties(const lep_sort_pair *p, size_t k, float t, uint64_t *bits);

/// Which entries of one input's delta a magnitude selection keeps (see lep_kept_min): all, none,
/// or, with LEP_KEEP_ABOVE, those with |δ| > threshold or NaN, plus those equal to it (every NaN when
/// the threshold is NaN, and then nothing else) whose bit is set in `ties`, indexed by element.
enum { LEP_KEEP_ALL = 0, LEP_KEEP_NONE = 1, LEP_KEEP_ABOVE = 2 };
typedef struct {
    int rule;
    float threshold;
    const uint64_t *ties;
} lep_kept_set;

/// lep_task_arithmetic_bf16 over selected deltas, optionally with TIES' sign consensus: per element,
/// u_i = (kept_i ? x_i − b : 0) · w_i; s = 0 + u_0 + u_1 + …; with `consensus`, m = 0 + (u_i that are
/// non-zero and whose sign, > 0, equals s ≥ 0) and divisor = 0 + (their w_i), 0 → 1; without it m = s
/// and divisor = plain_divisor; then m / divisor when `normalize`, m · lambda when lambda ≠ 1, and
/// y = b + m, each step rounded to float in that order; out / out_f32 and the result as in
/// lep_task_arithmetic_bf16.
size_t lep_sparse_task_arithmetic_bf16(const uint16_t *base, const uint16_t *const *inputs, const float *weights,
                                       const lep_kept_set *kept, size_t n_inputs, size_t offset, size_t count,
                                       int consensus, int normalize, float plain_divisor, float lambda, uint16_t *out,
                                       float *out_f32);

/// u[j] = (kept ? d[j] : 0) · w for the elements [first, first + n) of one input's float32 deltas, by its
/// kept set (the selection step of lep_sparse_task_arithmetic_bf16, for other dtypes); u may be d.
void lep_weigh_kept(const float *d, size_t n, float w, const lep_kept_set *kept, size_t first, float *u);

// ---- Random (DARE) sparsification (bernoulli.c) ----
/// keep[j] = 1 when lep's draw for element first + j is below p, else 0: the draw is
/// Float(mix(seed + (first + j)·0x9E3779B97F4A7C15) >> 40)·2⁻²⁴ with SplitMix64's finaliser `mix`
/// (wrapping 64-bit arithmetic), the same numbers as Merging's Kernels.uniform.
void lep_bernoulli_mask(uint8_t *keep, size_t count, uint64_t seed, size_t first, float p);

#endif
