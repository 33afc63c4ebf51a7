/* One AdamW update of a parameter as a single pass (torch.optim.AdamW's single-tensor arithmetic, float32, in
 * the same order), and the sum of squares behind global-norm clipping. As tfjs ops the update was twelve passes
 * over the parameter, each allocating its result: seconds per step for a bert-base model's 110M parameters. */
#include "kernels.h"
#include "pool.h"
#include <math.h>
#include <stdlib.h>

typedef struct {
  const float *p, *g;
  float *m, *v, *p_out;
  float decay, b1, b1c, b2, b2c, eps, step_size, bc2_sqrt, gscale;
} adamw_ctx;

static void adamw_range(void *vctx, size_t begin, size_t end) {
  const adamw_ctx *c = (const adamw_ctx *)vctx;
  const float b1c = c->b1c, b2c = c->b2c;
  for (size_t i = begin; i < end; i++) {
    const float g = c->gscale == 1.0f ? c->g[i] : c->g[i] * c->gscale;
    const float p = c->decay == 1.0f ? c->p[i] : c->p[i] * c->decay;
    const float m = c->m[i] * c->b1 + g * b1c;
    const float v = c->v[i] * c->b2 + g * g * b2c;
    const float denom = sqrtf(v) / c->bc2_sqrt + c->eps;
    c->m[i] = m;
    c->v[i] = v;
    c->p_out[i] = p - m / denom * c->step_size;
  }
}

/* The constants come from the caller already rounded to float32 (1 − β in double, then rounded, as tfjs's scalar
 * operands), so that the update matches the tf-op path. */
void fidkd_adamw(const float *p, const float *g, float *m, float *v, float *p_out, size_t n, float decay, float b1,
                 float b1c, float b2, float b2c, float eps, float step_size, float bc2_sqrt, float gscale) {
  adamw_ctx c = {p, g, m, v, p_out, decay, b1, b1c, b2, b2c, eps, step_size, bc2_sqrt, gscale};
  fidkd_parallel_for(n, 65536, adamw_range, &c);
}

/* A fixed number of blocks whatever the thread count, summed in block order: the same double on every run. */
#define SUMSQ_BLOCKS 64

typedef struct {
  const float *x;
  size_t n;
  double *parts;
} sumsq_ctx;

static void sumsq_range(void *vctx, size_t begin, size_t end) {
  const sumsq_ctx *c = (const sumsq_ctx *)vctx;
  for (size_t blk = begin; blk < end; blk++) {
    size_t i0 = c->n * blk / SUMSQ_BLOCKS, i1 = c->n * (blk + 1) / SUMSQ_BLOCKS;
    /* 8 lanes so that the loop vectorises; each lane in double. */
    double lane[8] = {0};
    size_t i = i0;
    for (; i + 8 <= i1; i += 8)
      for (int k = 0; k < 8; k++) lane[k] += (double)c->x[i + k] * c->x[i + k];
    double s = 0.0;
    for (int k = 0; k < 8; k++) s += lane[k];
    for (; i < i1; i++) s += (double)c->x[i] * c->x[i];
    c->parts[blk] = s;
  }
}

double fidkd_sum_squares(const float *x, size_t n) {
  double parts[SUMSQ_BLOCKS];
  sumsq_ctx c = {x, n, parts};
  fidkd_parallel_for(SUMSQ_BLOCKS, n >= 65536 ? 2 : SUMSQ_BLOCKS + 1, sumsq_range, &c);
  double s = 0.0;
  for (int b = 0; b < SUMSQ_BLOCKS; b++) s += parts[b];
  return s;
}
