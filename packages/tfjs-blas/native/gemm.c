/* Batched sgemm over OpenBLAS plus the fused bias/activation epilogue of _FusedMatMul. */
#include "activations.h"
#include "kernels.h"
#include "pool.h"
#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Declared here so that any cblas.h (netlib's or OpenBLAS's) works; we always link OpenBLAS. */
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);

int fidkd_blas_threads(void) { return openblas_get_num_threads(); }
void fidkd_blas_set_threads(int n) { openblas_set_num_threads(n); }
const char *fidkd_blas_config(void) { return openblas_get_config(); }
const char *fidkd_blas_corename(void) { return openblas_get_corename(); }

typedef struct {
  const float *a, *b;
  float *c;
  const int64_t *a_off, *b_off;
  int m, n, k, ta, tb;
} gemm_ctx;

static void gemm_one(const gemm_ctx *g, size_t i) {
  int lda = g->ta ? g->m : g->k;
  int ldb = g->tb ? g->k : g->n;
  cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, g->m, g->n,
              g->k, 1.0f, g->a + g->a_off[i], lda, g->b + g->b_off[i], ldb, 0.0f,
              g->c + (size_t)i * (size_t)g->m * (size_t)g->n, g->n);
}

static void gemm_range(void *ctx, size_t begin, size_t end) {
  for (size_t i = begin; i < end; i++) gemm_one((const gemm_ctx *)ctx, i);
}

/* Rows [begin, end) of the single product (batch 1): op(A)'s rows start at row `begin` of A, or at column
 * `begin` when A is transposed (lda stays m). */
static void gemm_rows(void *ctx, size_t begin, size_t end) {
  const gemm_ctx *g = (const gemm_ctx *)ctx;
  int lda = g->ta ? g->m : g->k;
  int ldb = g->tb ? g->k : g->n;
  const float *a = g->a + g->a_off[0] + (g->ta ? begin : begin * (size_t)g->k);
  cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, (int)(end - begin),
              g->n, g->k, 1.0f, a, lda, g->b + g->b_off[0], ldb, 0.0f, g->c + begin * (size_t)g->n, g->n);
}

/* A fixed number of blocks of the inner dimension, whatever the thread count: each block's partial product goes to
 * its own buffer and the buffers are summed in block order, so the result is the same float for float on every
 * run (summing into C as threads finish would make it depend on their timing). */
#define KSPLIT_BLOCKS 8

typedef struct {
  const gemm_ctx *g;
  float *parts; /* KSPLIT_BLOCKS × m × n */
} ksplit_ctx;

/* Blocks [begin, end) of the inner dimension of the single product, each into its own part. */
static void gemm_inner(void *ctx, size_t begin, size_t end) {
  const ksplit_ctx *ks = (const ksplit_ctx *)ctx;
  const gemm_ctx *g = ks->g;
  int lda = g->ta ? g->m : g->k;
  int ldb = g->tb ? g->k : g->n;
  size_t mn = (size_t)g->m * g->n;
  for (size_t blk = begin; blk < end; blk++) {
    size_t k0 = (size_t)g->k * blk / KSPLIT_BLOCKS, k1 = (size_t)g->k * (blk + 1) / KSPLIT_BLOCKS;
    float *part = ks->parts + blk * mn;
    if (k1 == k0) {
      memset(part, 0, sizeof(float) * mn);
      continue;
    }
    const float *a = g->a + g->a_off[0] + (g->ta ? k0 * (size_t)g->m : k0);
    const float *b = g->b + g->b_off[0] + (g->tb ? k0 : k0 * (size_t)g->n);
    cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, g->m, g->n,
                (int)(k1 - k0), 1.0f, a, lda, b, ldb, 0.0f, part, g->n);
  }
}

void fidkd_gemm_batched(const float *a, const float *b, float *c, const int64_t *a_off, const int64_t *b_off,
                        int batch, int m, int n, int k, int trans_a, int trans_b) {
  gemm_ctx g = {a, b, c, a_off, b_off, m, n, k, trans_a, trans_b};
  if (k == 0) {
    memset(c, 0, sizeof(float) * (size_t)batch * (size_t)m * (size_t)n);
    return;
  }
  double flops = 2.0 * m * n * (double)k;
  /* Many small products (attention heads): one single-threaded sgemm per pool thread beats OpenBLAS's own
   * threading, which does not pay below a few MFLOP per product. */
  if (batch >= 2 && flops < 8e6 && fidkd_pool_threads() > 1) {
    int saved = openblas_get_num_threads();
    openblas_set_num_threads(1);
    fidkd_parallel_for((size_t)batch, 2, gemm_range, &g);
    openblas_set_num_threads(saved);
    return;
  }
  /* One small product (< 20 MFLOP, e.g. 32×96 · 96×128): in the calling thread. OpenBLAS would hand it to its
   * threads above ~0.26 M multiply-adds, and waking a sleeping thread costs more than the product. */
  if (batch == 1 && flops < 2e7) {
    int saved = openblas_get_num_threads();
    if (saved > 1) openblas_set_num_threads(1);
    gemm_range(&g, 0, 1);
    if (saved > 1) openblas_set_num_threads(saved);
    return;
  }
  /* One tall, thin product (the projections of a tiny transformer over thousands of tokens, tens of MFLOP):
   * blocks of rows as single-threaded sgemm calls over the pool. OpenBLAS's own threads wait for each other,
   * which costs a scheduler time slice whenever one of them is preempted on a busy machine; the pool's caller
   * takes the chunks a preempted worker has not started. */
  if (batch == 1 && m >= 256 && flops < 4e8 && fidkd_pool_threads() > 1) {
    int saved = openblas_get_num_threads();
    openblas_set_num_threads(1);
    fidkd_parallel_for((size_t)m, 128, gemm_rows, &g);
    openblas_set_num_threads(saved);
    return;
  }
  /* Few outputs over a long inner dimension (weight gradients of the same projections): fixed blocks of the
   * inner dimension over the pool, each into a private buffer, summed in block order (deterministic). */
  if (batch == 1 && m < 256 && (size_t)m * n <= 65536 && k >= 2048 && flops < 4e8 && fidkd_pool_threads() > 1) {
    size_t mn = (size_t)m * n;
    float *parts = malloc(sizeof(float) * mn * KSPLIT_BLOCKS);
    if (parts) {
      int saved = openblas_get_num_threads();
      openblas_set_num_threads(1);
      ksplit_ctx ks = {&g, parts};
      fidkd_parallel_for(KSPLIT_BLOCKS, 2, gemm_inner, &ks);
      openblas_set_num_threads(saved);
      memcpy(c, parts, sizeof(float) * mn);
      for (size_t blk = 1; blk < KSPLIT_BLOCKS; blk++) {
        const float *part = parts + blk * mn;
        for (size_t i = 0; i < mn; i++) c[i] += part[i];
      }
      free(parts);
      return;
    }
  }
  gemm_range(&g, 0, (size_t)batch);
}

typedef struct {
  float *c;
  size_t cols;
  const float *bias;
  size_t bias_len;
  int act;
  float alpha;
  const float *prelu;
  size_t prelu_len;
} epi_ctx;

static void epi_range(void *vctx, size_t begin, size_t end) {
  const epi_ctx *e = (const epi_ctx *)vctx;
  size_t cols = e->cols;
  for (size_t r = begin; r < end; r++) {
    float *row = e->c + r * cols;
    size_t base = r * cols;
    if (e->bias) {
      if (e->bias_len == 1) {
        float v = e->bias[0];
        for (size_t j = 0; j < cols; j++) row[j] += v;
      } else if (e->bias_len == cols) {
        for (size_t j = 0; j < cols; j++) row[j] += e->bias[j];
      } else {
        const float *bb = e->bias + (base % e->bias_len);
        for (size_t j = 0; j < cols; j++) row[j] += bb[j];
      }
    }
    switch (e->act) {
      case ACT_RELU:
        for (size_t j = 0; j < cols; j++) row[j] = fidkd_relu(row[j]);
        break;
      case ACT_RELU6:
        for (size_t j = 0; j < cols; j++) row[j] = fidkd_relu6(row[j]);
        break;
      case ACT_ELU:
        for (size_t j = 0; j < cols; j++) row[j] = fidkd_elu(row[j]);
        break;
      case ACT_LEAKYRELU:
        for (size_t j = 0; j < cols; j++) row[j] = fidkd_leaky_relu(row[j], e->alpha);
        break;
      case ACT_SIGMOID:
        for (size_t j = 0; j < cols; j++) row[j] = fidkd_sigmoid(row[j]);
        break;
      case ACT_PRELU:
        for (size_t j = 0; j < cols; j++) {
          float w = e->prelu_len == 1 ? e->prelu[0] : e->prelu[(base + j) % e->prelu_len];
          row[j] = fidkd_leaky_relu(row[j], w);
        }
        break;
      default:
        break;
    }
  }
}

void fidkd_bias_act(float *c, size_t rows, size_t cols, const float *bias, size_t bias_len, int act, float alpha,
                    const float *prelu, size_t prelu_len) {
  if (!bias && act == ACT_LINEAR) return;
  epi_ctx e = {c, cols, bias, bias_len, act, alpha, prelu, prelu_len};
  fidkd_parallel_for(rows, rows * cols >= 32768 ? 2 : rows + 1, epi_range, &e);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void fidkd_bench_sgemm(int m, int n, int k, int reps, double *times) {
  float *a = malloc(sizeof(float) * (size_t)m * (size_t)k);
  float *b = malloc(sizeof(float) * (size_t)k * (size_t)n);
  float *c = malloc(sizeof(float) * (size_t)m * (size_t)n);
  if (!a || !b || !c) {
    free(a); free(b); free(c);
    for (int r = 0; r < reps; r++) times[r] = -1.0;
    return;
  }
  unsigned s = 12345u;
  for (size_t i = 0; i < (size_t)m * (size_t)k; i++) { s = s * 1664525u + 1013904223u; a[i] = (float)(s >> 8) / 16777216.0f - 0.5f; }
  for (size_t i = 0; i < (size_t)k * (size_t)n; i++) { s = s * 1664525u + 1013904223u; b[i] = (float)(s >> 8) / 16777216.0f - 0.5f; }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n); /* warm-up */
  for (int r = 0; r < reps; r++) {
    double t0 = now_s();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    times[r] = now_s() - t0;
  }
  free(a); free(b); free(c);
}
