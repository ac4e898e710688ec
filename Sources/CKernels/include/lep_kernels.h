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

/// dst[i] = src[i] widened to float, for i < count (src of type `type`).
void lep_to_f32(const void *src, int type, float *dst, size_t count);

/// Softmax of x[0..n) in place: exp(x − max) / Σ exp(x − max).
void lep_softmax(float *x, size_t n);

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

/// exp(x[i]) into y[i] with the kernels' exponential (for tests; y may equal x).
void lep_exp(const float *x, float *y, size_t n);

#endif
