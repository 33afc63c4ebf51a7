/* Exact (erf) GELU x·Φ(x) and its gradient dy·(Φ(x) + x·φ(x)) as single passes over the pool. As tfjs ops the
 * forward was five kernels over the [tokens, ffn] activations (the largest tensor of a BERT layer) and the
 * backward seven; erf and e^x come from vmath.h so that the loops vectorise. */
#include "kernels.h"
#include "pool.h"
#include "vmath.h"

typedef struct {
  const float *x, *dy;
  float *out;
} gelu_ctx;

static void fwd_range(void *vctx, size_t begin, size_t end) {
  const gelu_ctx *c = (const gelu_ctx *)vctx;
  const float *restrict x = c->x;
  float *restrict y = c->out;
  for (size_t i = begin; i < end; i++) y[i] = x[i] * (0.5f * (1.0f + erf_as(x[i] * 0.70710678118654752f)));
}

void fidkd_gelu(const float *x, float *y, size_t n) {
  gelu_ctx c = {.x = x, .out = y};
  fidkd_parallel_for(n, 32768, fwd_range, &c);
}

static void bwd_range(void *vctx, size_t begin, size_t end) {
  const gelu_ctx *c = (const gelu_ctx *)vctx;
  const float *restrict x = c->x, *restrict dy = c->dy;
  float *restrict dx = c->out;
  for (size_t i = begin; i < end; i++) {
    const float cdf = 0.5f * (1.0f + erf_as(x[i] * 0.70710678118654752f));
    const float pdf = 0.39894228040143268f * exp_nonpos(-0.5f * x[i] * x[i]);
    dx[i] = dy[i] * (cdf + x[i] * pdf);
  }
}

void fidkd_gelu_grad(const float *dy, const float *x, float *dx, size_t n) {
  gelu_ctx c = {.x = x, .dy = dy, .out = dx};
  fidkd_parallel_for(n, 32768, bwd_range, &c);
}
