/* Unary and broadcasting binary element-wise ops, and the row-wise softmax, split across the pool. */
#include "activations.h"
#include "kernels.h"
#include "pool.h"
#include <math.h>

#define PAR_MIN 32768 /* below this many elements, waking a thread costs more than it saves */

/* ---------------- unary ---------------- */
typedef struct {
  int op;
  const float *x;
  float *y;
  float alpha;
} un_ctx;

static void unary_range(void *vctx, size_t b, size_t e) {
  const un_ctx *u = (const un_ctx *)vctx;
  const float *x = u->x;
  float *y = u->y;
  float al = u->alpha;
  switch (u->op) {
    case U_EXP: for (size_t i = b; i < e; i++) y[i] = expf(x[i]); break;
    case U_LOG: for (size_t i = b; i < e; i++) y[i] = logf(x[i]); break;
    case U_ERF: for (size_t i = b; i < e; i++) y[i] = erff(x[i]); break;
    case U_TANH: for (size_t i = b; i < e; i++) y[i] = tanhf(x[i]); break;
    case U_SQRT: for (size_t i = b; i < e; i++) y[i] = sqrtf(x[i]); break;
    case U_RSQRT: for (size_t i = b; i < e; i++) y[i] = 1.0f / sqrtf(x[i]); break;
    case U_SQUARE: for (size_t i = b; i < e; i++) y[i] = x[i] * x[i]; break;
    case U_NEG: for (size_t i = b; i < e; i++) y[i] = -x[i]; break;
    case U_RELU: for (size_t i = b; i < e; i++) y[i] = fidkd_relu(x[i]); break;
    case U_SIGMOID: for (size_t i = b; i < e; i++) y[i] = fidkd_sigmoid(x[i]); break;
    case U_ABS: for (size_t i = b; i < e; i++) y[i] = fabsf(x[i]); break;
    case U_RECIPROCAL: for (size_t i = b; i < e; i++) y[i] = 1.0f / x[i]; break;
    case U_RELU6: for (size_t i = b; i < e; i++) y[i] = fidkd_relu6(x[i]); break;
    case U_ELU: for (size_t i = b; i < e; i++) y[i] = fidkd_elu(x[i]); break;
    case U_LEAKYRELU: for (size_t i = b; i < e; i++) y[i] = fidkd_leaky_relu(x[i], al); break;
    case U_STEP: for (size_t i = b; i < e; i++) y[i] = isnan(x[i]) ? NAN : (x[i] > 0.0f ? 1.0f : al); break;
    default: break;
  }
}

void fidkd_unary(int op, const float *x, float *y, size_t n, float alpha) {
  un_ctx u = {op, x, y, alpha};
  fidkd_parallel_for(n, PAR_MIN, unary_range, &u);
}

/* ---------------- binary with broadcasting ---------------- */
typedef struct {
  int op;
  const float *a, *b;
  float *out;
  int rank;
  const int64_t *shape, *as, *bs;
  size_t inner;
} bin_ctx;

#define BIN_LOOP(EXPR)                                                              \
  do {                                                                              \
    if (sa == 1 && sb == 1) { for (size_t j = 0; j < n; j++) { float x = pa[j], y = pb[j]; po[j] = (EXPR); } } \
    else if (sa == 1) { float y = pb[0]; for (size_t j = 0; j < n; j++) { float x = pa[j]; po[j] = (EXPR); } } \
    else if (sb == 1) { float x = pa[0]; for (size_t j = 0; j < n; j++) { float y = pb[j]; po[j] = (EXPR); } } \
    else { float x = pa[0], y = pb[0]; float v = (EXPR); for (size_t j = 0; j < n; j++) po[j] = v; } \
  } while (0)

static void bin_inner(int op, const float *pa, const float *pb, float *po, size_t n, int64_t sa, int64_t sb) {
  switch (op) {
    case B_ADD: BIN_LOOP(x + y); break;
    case B_SUB: BIN_LOOP(x - y); break;
    case B_MUL: BIN_LOOP(x * y); break;
    case B_DIV: BIN_LOOP(x / y); break;
    case B_MAX: BIN_LOOP((isnan(x) || isnan(y)) ? NAN : (x > y ? x : y)); break;
    case B_MIN: BIN_LOOP((isnan(x) || isnan(y)) ? NAN : (x < y ? x : y)); break;
    case B_SQDIFF: BIN_LOOP((x - y) * (x - y)); break;
    case B_POW: BIN_LOOP(powf(x, y)); break;
    default: break;
  }
}

/* Rows are the outer multi-indices (all dims but the last); each range computes its own start offsets. */
static void binary_range(void *vctx, size_t rb, size_t re) {
  const bin_ctx *c = (const bin_ctx *)vctx;
  int outer_rank = c->rank - 1;
  int64_t idx[FIDKD_MAX_RANK] = {0};
  size_t rem = rb;
  int64_t ao = 0, bo = 0;
  for (int d = outer_rank - 1; d >= 0; d--) {
    idx[d] = (int64_t)(rem % (size_t)c->shape[d]);
    rem /= (size_t)c->shape[d];
    ao += idx[d] * c->as[d];
    bo += idx[d] * c->bs[d];
  }
  int64_t sa = c->as[c->rank - 1], sb = c->bs[c->rank - 1];
  for (size_t r = rb; r < re; r++) {
    bin_inner(c->op, c->a + ao, c->b + bo, c->out + r * c->inner, c->inner, sa, sb);
    /* odometer increment of the outer index */
    for (int d = outer_rank - 1; d >= 0; d--) {
      idx[d]++;
      ao += c->as[d];
      bo += c->bs[d];
      if (idx[d] < c->shape[d]) break;
      ao -= idx[d] * c->as[d];
      bo -= idx[d] * c->bs[d];
      idx[d] = 0;
    }
  }
}

void fidkd_binary(int op, const float *a, const float *b, float *out, int rank, const int64_t *shape,
                  const int64_t *a_strides, const int64_t *b_strides) {
  size_t inner = (size_t)shape[rank - 1];
  size_t rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= (size_t)shape[d];
  if (inner == 0 || rows == 0) return;
  bin_ctx c = {op, a, b, out, rank, shape, a_strides, b_strides, inner};
  size_t min_rows = (PAR_MIN + inner - 1) / inner;
  fidkd_parallel_for(rows, min_rows < 2 ? 2 : min_rows, binary_range, &c);
}

/* ---------------- softmax over the last axis ---------------- */
typedef struct {
  const float *x;
  float *y;
  size_t cols;
} sm_ctx;

static void softmax_range(void *vctx, size_t rb, size_t re) {
  const sm_ctx *s = (const sm_ctx *)vctx;
  size_t n = s->cols;
  for (size_t r = rb; r < re; r++) {
    const float *x = s->x + r * n;
    float *y = s->y + r * n;
    float m = -INFINITY;
    for (size_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
    double sum = 0.0;
    for (size_t j = 0; j < n; j++) {
      y[j] = expf(x[j] - m);
      sum += y[j];
    }
    float inv = (float)(1.0 / sum);
    for (size_t j = 0; j < n; j++) y[j] *= inv;
  }
}

void fidkd_softmax(const float *x, float *y, size_t rows, size_t cols) {
  sm_ctx s = {x, y, cols};
  size_t min_rows = (PAR_MIN / 4 + cols - 1) / (cols ? cols : 1);
  fidkd_parallel_for(rows, min_rows < 2 ? 2 : min_rows, softmax_range, &s);
}
