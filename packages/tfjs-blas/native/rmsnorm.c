/* T5's RMS layer norm y = x / sqrt(mean(x²) + eps) · w over the last axis, forward and backward, in one pass
 * each (rows spread over the pool); sums in double, as @fidkd/fid-reader's JS loops. */
#include "kernels.h"
#include "pool.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const float *x, *w, *dy, *rinv_in;
  float *y, *rinv, *dx;
  size_t d;
  double eps;
} rms_ctx;

static void fwd_range(void *vctx, size_t begin, size_t end) {
  const rms_ctx *c = (const rms_ctx *)vctx;
  const size_t d = c->d;
  for (size_t i = begin; i < end; i++) {
    const float *xi = c->x + i * d;
    float *yi = c->y + i * d;
    double s = 0.0;
    for (size_t j = 0; j < d; j++) s += (double)xi[j] * xi[j];
    const double r = 1.0 / sqrt(s / (double)d + c->eps);
    c->rinv[i] = (float)r;
    for (size_t j = 0; j < d; j++) yi[j] = (float)(xi[j] * r * c->w[j]);
  }
}

void fidkd_rms_norm(const float *x, const float *w, float *y, float *rinv, size_t rows, size_t d, double eps) {
  rms_ctx c = {.x = x, .w = w, .y = y, .rinv = rinv, .d = d, .eps = eps};
  fidkd_parallel_for(rows, 64, fwd_range, &c);
}

/* dx = r·dy·w − x·r³·(Σ dy·w·x)/d per row. */
static void bwd_range(void *vctx, size_t begin, size_t end) {
  const rms_ctx *c = (const rms_ctx *)vctx;
  const size_t d = c->d;
  for (size_t i = begin; i < end; i++) {
    const float *xi = c->x + i * d, *gi = c->dy + i * d;
    float *dxi = c->dx + i * d;
    const double r = c->rinv_in[i];
    double dot = 0.0;
    for (size_t j = 0; j < d; j++) dot += (double)gi[j] * c->w[j] * xi[j];
    const double k = r * r * r * dot / (double)d;
    for (size_t j = 0; j < d; j++) dxi[j] = (float)(r * gi[j] * c->w[j] - xi[j] * k);
  }
}

void fidkd_rms_norm_grad(const float *dy, const float *x, const float *w, const float *rinv, float *dx, float *dw,
                         size_t rows, size_t d) {
  rms_ctx c = {.x = x, .w = w, .dy = dy, .rinv_in = rinv, .dx = dx, .d = d};
  fidkd_parallel_for(rows, 64, bwd_range, &c);
  /* dw[j] = Σ_i dy·x·r: one pass over the rows (d accumulators), in the calling thread. */
  double *acc = calloc(d, sizeof(double));
  for (size_t i = 0; i < rows; i++) {
    const float *xi = x + i * d, *gi = dy + i * d;
    const double r = rinv[i];
    for (size_t j = 0; j < d; j++) acc[j] += (double)gi[j] * xi[j] * r;
  }
  for (size_t j = 0; j < d; j++) dw[j] = (float)acc[j];
  free(acc);
}
