/* Reductions of x viewed as [outer, r, inner] over the middle axis (any contiguous run of axes). */
#include "kernels.h"
#include "pool.h"
#include <math.h>
#include <string.h>

typedef struct {
  int op;
  const float *x;
  float *out;
  size_t outer, r, inner, chunk, nchunks;
} red_ctx;

/* inner == 1: contiguous rows; 8 independent double partial sums vectorise and keep the stock kernel's
 * (JavaScript double) accuracy on long rows. */
static float reduce_row(int op, const float *x, size_t n) {
  if (op == R_SUM || op == R_MEAN) {
    double acc[8] = {0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
      for (int t = 0; t < 8; t++) acc[t] += (double)x[j + t];
    double s = 0.0;
    for (int t = 0; t < 8; t++) s += acc[t];
    for (; j < n; j++) s += x[j];
    return op == R_MEAN ? (float)(s / (double)n) : (float)s;
  }
  float m = x[0];
  if (op == R_MAX) {
    for (size_t j = 1; j < n; j++) if (x[j] > m || isnan(x[j])) m = x[j];
  } else {
    for (size_t j = 1; j < n; j++) if (x[j] < m || isnan(x[j])) m = x[j];
  }
  return m;
}

static void rows_range(void *vctx, size_t b, size_t e) {
  const red_ctx *c = (const red_ctx *)vctx;
  for (size_t i = b; i < e; i++) c->out[i] = reduce_row(c->op, c->x + i * c->r, c->r);
}

/* inner > 1: work items are (outer index, column chunk); rows of the chunk are accumulated in place. */
static void cols_range(void *vctx, size_t b, size_t e) {
  const red_ctx *c = (const red_ctx *)vctx;
  for (size_t it = b; it < e; it++) {
    size_t o = it / c->nchunks, ch = it % c->nchunks;
    size_t j0 = ch * c->chunk, j1 = j0 + c->chunk < c->inner ? j0 + c->chunk : c->inner;
    size_t w = j1 - j0;
    float *dst = c->out + o * c->inner + j0;
    const float *src = c->x + o * c->r * c->inner + j0;
    memcpy(dst, src, w * sizeof(float));
    for (size_t k = 1; k < c->r; k++) {
      const float *row = src + k * c->inner;
      switch (c->op) {
        case R_SUM:
        case R_MEAN:
          for (size_t j = 0; j < w; j++) dst[j] += row[j];
          break;
        case R_MAX:
          for (size_t j = 0; j < w; j++) dst[j] = (row[j] > dst[j] || isnan(row[j])) ? row[j] : dst[j];
          break;
        case R_MIN:
          for (size_t j = 0; j < w; j++) dst[j] = (row[j] < dst[j] || isnan(row[j])) ? row[j] : dst[j];
          break;
      }
    }
    if (c->op == R_MEAN) {
      float inv = 1.0f / (float)c->r;
      for (size_t j = 0; j < w; j++) dst[j] *= inv;
    }
  }
}

void fidkd_reduce(int op, const float *x, float *out, size_t outer, size_t r, size_t inner) {
  if (outer == 0 || inner == 0) return;
  if (r == 0) { /* empty reduction: tfjs gives 0 for sum/mean(NaN for mean), -inf/inf for max/min */
    float v = op == R_SUM ? 0.0f : op == R_MEAN ? NAN : op == R_MAX ? -INFINITY : INFINITY;
    for (size_t i = 0; i < outer * inner; i++) out[i] = v;
    return;
  }
  red_ctx c = {op, x, out, outer, r, inner, 0, 0};
  if (inner == 1) {
    size_t min_rows = 32768 / r;
    fidkd_parallel_for(outer, min_rows < 2 ? 2 : min_rows, rows_range, &c);
    return;
  }
  c.chunk = inner < 256 ? inner : 256;
  c.nchunks = (inner + c.chunk - 1) / c.chunk;
  size_t items = outer * c.nchunks;
  size_t per_item = r * c.chunk;
  size_t min_items = 32768 / per_item;
  fidkd_parallel_for(items, min_items < 2 ? 2 : min_items, cols_range, &c);
}
