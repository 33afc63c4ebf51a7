/* LayerNorm y = (x − mean)/sqrt(var + eps)·γ + β over the last axis (biased variance, as torch), forward and
 * backward, one pass over the rows each (rows spread over the pool), sums in double. BERT's norms were ~10 tfjs
 * ops each (mean, centre, square, mean, rsqrt, two broadcasts, scale, shift) and as many on the tape. */
#include "kernels.h"
#include "pool.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The γ, β gradients are sums over rows: a fixed number of row blocks, whatever the thread count, each into its
 * own partial, summed in block order, so that the result does not depend on thread timing. */
#define LN_BLOCKS 16

typedef struct {
  const float *x, *g, *b, *dy, *mean_in, *rstd_in;
  float *y, *mean, *rstd, *dx;
  double *parts; /* LN_BLOCKS × 2d: dγ then dβ partials */
  size_t rows, d;
  double eps;
} ln_ctx;

static void fwd_range(void *vctx, size_t begin, size_t end) {
  const ln_ctx *c = (const ln_ctx *)vctx;
  const size_t d = c->d;
  for (size_t i = begin; i < end; i++) {
    const float *xi = c->x + i * d;
    float *yi = c->y + i * d;
    double s = 0.0;
    for (size_t j = 0; j < d; j++) s += xi[j];
    const double mu = s / (double)d;
    double v = 0.0;
    for (size_t j = 0; j < d; j++) v += (xi[j] - mu) * (xi[j] - mu);
    const double r = 1.0 / sqrt(v / (double)d + c->eps);
    c->mean[i] = (float)mu;
    c->rstd[i] = (float)r;
    const float fm = (float)mu, fr = (float)r;
    for (size_t j = 0; j < d; j++) yi[j] = (xi[j] - fm) * fr * c->g[j] + c->b[j];
  }
}

void fidkd_layer_norm(const float *x, const float *g, const float *b, float *y, float *mean, float *rstd, size_t rows,
                      size_t d, double eps) {
  ln_ctx c = {.x = x, .g = g, .b = b, .y = y, .mean = mean, .rstd = rstd, .rows = rows, .d = d, .eps = eps};
  fidkd_parallel_for(rows, 64, fwd_range, &c);
}

/* Per row, with x̂ = (x − mean)·r and ĝ = dy·γ: dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)); block partials of dγ = Σ dy·x̂
 * and dβ = Σ dy. */
static void bwd_range(void *vctx, size_t begin, size_t end) {
  const ln_ctx *c = (const ln_ctx *)vctx;
  const size_t d = c->d;
  for (size_t blk = begin; blk < end; blk++) {
    size_t r0 = c->rows * blk / LN_BLOCKS, r1 = c->rows * (blk + 1) / LN_BLOCKS;
    double *dg = c->parts + blk * 2 * d, *db = dg + d;
    memset(dg, 0, sizeof(double) * 2 * d);
    for (size_t i = r0; i < r1; i++) {
      const float *xi = c->x + i * d, *gi = c->dy + i * d;
      float *dxi = c->dx + i * d;
      const float mu = c->mean_in[i], r = c->rstd_in[i];
      double sg = 0.0, sgx = 0.0;
      for (size_t j = 0; j < d; j++) {
        const float xh = (xi[j] - mu) * r;
        const float gh = gi[j] * c->g[j];
        sg += gh;
        sgx += (double)gh * xh;
        dg[j] += (double)gi[j] * xh;
        db[j] += gi[j];
      }
      const float mg = (float)(sg / (double)d), mgx = (float)(sgx / (double)d);
      for (size_t j = 0; j < d; j++) dxi[j] = r * (gi[j] * c->g[j] - mg - (xi[j] - mu) * r * mgx);
    }
  }
}

void fidkd_layer_norm_grad(const float *dy, const float *x, const float *g, const float *mean, const float *rstd,
                           float *dx, float *dg, float *db, size_t rows, size_t d) {
  double *parts = malloc(sizeof(double) * LN_BLOCKS * 2 * d);
  ln_ctx c = {.x = x, .g = g, .dy = dy, .mean_in = mean, .rstd_in = rstd, .dx = dx, .parts = parts, .rows = rows, .d = d};
  fidkd_parallel_for(LN_BLOCKS, rows >= 256 ? 2 : LN_BLOCKS + 1, bwd_range, &c);
  for (size_t j = 0; j < d; j++) {
    double sg = 0.0, sb = 0.0;
    for (size_t blk = 0; blk < LN_BLOCKS; blk++) {
      sg += parts[blk * 2 * d + j];
      sb += parts[blk * 2 * d + d + j];
    }
    dg[j] = (float)sg;
    db[j] = (float)sb;
  }
  free(parts);
}
