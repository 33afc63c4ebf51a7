/* Float32 kernels behind the N-API glue in addon.c. All arrays are dense row-major. */
#ifndef FIDKD_KERNELS_H
#define FIDKD_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#define FIDKD_MAX_RANK 8

/* ---- gemm.c ---- */
enum fidkd_act { ACT_LINEAR = 0, ACT_RELU, ACT_RELU6, ACT_ELU, ACT_LEAKYRELU, ACT_SIGMOID, ACT_PRELU };
/* C[i] = op(A + a_off[i]) * op(B + b_off[i]) for i < batch; C is [batch, m, n]. */
void fidkd_gemm_batched(const float *a, const float *b, float *c, const int64_t *a_off, const int64_t *b_off,
                        int batch, int m, int n, int k, int trans_a, int trans_b);
/* In place on c [rows, cols]: c += bias (bias_len 1, cols or rows*cols, broadcast by repetition), then act. */
void fidkd_bias_act(float *c, size_t rows, size_t cols, const float *bias, size_t bias_len, int act, float alpha,
                    const float *prelu, size_t prelu_len);
int fidkd_blas_threads(void);
void fidkd_blas_set_threads(int n);
const char *fidkd_blas_config(void);
const char *fidkd_blas_corename(void);
/* Times reps calls of sgemm m×n×k on fresh random matrices; writes seconds per call into times. */
void fidkd_bench_sgemm(int m, int n, int k, int reps, double *times);

/* ---- elementwise.c ---- */
enum fidkd_unary {
  U_EXP = 0, U_LOG, U_ERF, U_TANH, U_SQRT, U_RSQRT, U_SQUARE, U_NEG, U_RELU, U_SIGMOID, U_ABS, U_RECIPROCAL,
  U_RELU6, U_ELU, U_LEAKYRELU, U_STEP
};
void fidkd_unary(int op, const float *x, float *y, size_t n, float alpha);
enum fidkd_binary { B_ADD = 0, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_SQDIFF, B_POW };
/* out[shape] = a[..] op b[..] with per-dimension element strides (0 = broadcast); rank >= 1. */
void fidkd_binary(int op, const float *a, const float *b, float *out, int rank, const int64_t *shape,
                  const int64_t *a_strides, const int64_t *b_strides);
/* Row-wise softmax of x [rows, cols]. */
void fidkd_softmax(const float *x, float *y, size_t rows, size_t cols);

/* ---- reduce.c ---- */
enum fidkd_reduce { R_SUM = 0, R_MAX, R_MIN, R_MEAN };
/* x viewed as [outer, r, inner]; out [outer, inner] reduced over r. */
void fidkd_reduce(int op, const float *x, float *out, size_t outer, size_t r, size_t inner);

/* ---- layout.c ---- */
/* out = transpose(x, perm), x of shape in_shape (rank <= FIDKD_MAX_RANK). Elements are 4 bytes. */
void fidkd_transpose(const float *x, float *out, int rank, const int64_t *in_shape, const int *perm);
/* x [outer, dim, slice], idx [nidx] → out [outer, nidx, slice]. Returns -1, or the position of a bad index. */
int64_t fidkd_gather(const float *x, const int32_t *idx, float *out, size_t outer, size_t dim, size_t nidx,
                     size_t slice);
/* out [nseg, slice] = sum of rows of x [nids, slice] by segment id (ids outside [0, nseg) are dropped). */
void fidkd_unsorted_segment_sum(const float *x, const int32_t *ids, float *out, size_t nids, size_t slice,
                                size_t nseg);

/* ---- attention.c ---- */
/* T5 attention of q [n, lq, h*dkv] over k, v [n, lk, h*dkv] (rows ldq, ldk floats apart: h*dkv, or 3*h*dkv
 * when q, k, v are the thirds of one packed projection) with optional position bias pos [h, lq, lk] and key
 * mask [n, lk] (0 = padded), causal when set: out [n, lq, h*dkv], probs [n, h, lq, lk]. */
void fidkd_attention(const float *q, const float *k, const float *v, size_t ldq, size_t ldk, const float *pos,
                     const int32_t *mask, float *out, float *probs, int n, int h, int lq, int lk, int dkv,
                     int causal);
/* Gradients of fidkd_attention given dy [n, lq, h*dkv] and its probs, dq with q's row stride, dk, dv with k's
 * (every element written), and dpos [h, lq, lk] when not NULL. */
void fidkd_attention_grad(const float *dy, const float *q, const float *k, const float *v, size_t ldq, size_t ldk,
                          const float *probs, float *dq, float *dk, float *dv, float *dpos, int n, int h, int lq,
                          int lk, int dkv);

/* ---- rmsnorm.c ---- */
/* y [rows, d] = x / sqrt(mean(x²) + eps) · w; rinv [rows] = the 1/sqrt(...) of each row (for the gradient). */
void fidkd_rms_norm(const float *x, const float *w, float *y, float *rinv, size_t rows, size_t d, double eps);
/* Gradients of fidkd_rms_norm: dx [rows, d], dw [d]. */
void fidkd_rms_norm_grad(const float *dy, const float *x, const float *w, const float *rinv, float *dx, float *dw,
                         size_t rows, size_t d);

/* ---- layernorm.c ---- */
/* y [rows, d] = (x − mean)/sqrt(var + eps)·g + b; mean, rstd [rows] saved for the gradient. */
void fidkd_layer_norm(const float *x, const float *g, const float *b, float *y, float *mean, float *rstd, size_t rows,
                      size_t d, double eps);
/* Gradients of fidkd_layer_norm: dx [rows, d], dg, db [d]. */
void fidkd_layer_norm_grad(const float *dy, const float *x, const float *g, const float *mean, const float *rstd,
                           float *dx, float *dg, float *db, size_t rows, size_t d);

/* ---- gelu.c ---- */
/* y = x·Φ(x) (erf GELU) over n elements; fidkd_gelu_grad: dx = dy·(Φ(x) + x·φ(x)). */
void fidkd_gelu(const float *x, float *y, size_t n);
void fidkd_gelu_grad(const float *dy, const float *x, float *dx, size_t n);

/* ---- adamw.c ---- */
/* p_out = p·decay − step_size·m'/(√v'/bc2_sqrt + eps) with g scaled by gscale, m' = b1·m + b1c·g,
 * v' = b2·v + b2c·g² (b1c = 1 − b1, b2c = 1 − b2), m and v updated in place (torch.optim.AdamW's arithmetic). */
void fidkd_adamw(const float *p, const float *g, float *m, float *v, float *p_out, size_t n, float decay, float b1,
                 float b1c, float b2, float b2c, float eps, float step_size, float bc2_sqrt, float gscale);
/* Σ x² in double, in a fixed order (deterministic whatever the thread count). */
double fidkd_sum_squares(const float *x, size_t n);
#endif
