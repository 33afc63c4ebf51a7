/* T5 attention as one kernel (forward and backward), for the tiny heads (d_kv 8–64, tens of tokens) where
 * the split-heads transposes, the bias tensor, the softmax and a thousand tiny sgemm calls cost far more
 * than the arithmetic. Queries, keys and values stay in the projections' [N, L, H*dkv] layout; one task per
 * (sequence, head) pair, spread over the pool. Semantics of HF T5Attention: scores q·kᵀ (no 1/sqrt(d)),
 * plus (position bias + mask value) added in float32, where the mask value is finfo(float32).min for padded
 * keys (mask 0) or, when causal, keys after the query. */
#include "kernels.h"
#include "pool.h"
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const float *q, *k, *v, *pos, *dy, *probs;
  const int32_t *mask;
  float *out, *p_out, *dq, *dk, *dv, *ds;
  int n, h, lq, lk, dkv, causal;
} attn_ctx;

/* Additive bias of (head, query i, key j) of sequence b, as tfjs/HF compute it: fl(pos + maskValue). */
static inline float bias_of(const attn_ctx *c, int b, int hd, int i, int j) {
  float pb = c->pos ? c->pos[((size_t)hd * c->lq + i) * c->lk + j] : 0.0f;
  int masked = (c->mask && c->mask[(size_t)b * c->lk + j] == 0) || (c->causal && j > i);
  return masked ? pb + -FLT_MAX : pb;
}

static void fwd_range(void *vctx, size_t begin, size_t end) {
  const attn_ctx *c = (const attn_ctx *)vctx;
  const int lq = c->lq, lk = c->lk, dkv = c->dkv, width = c->h * c->dkv;
  for (size_t t = begin; t < end; t++) {
    int b = (int)(t / c->h), hd = (int)(t % c->h);
    const float *q = c->q + (size_t)b * lq * width + hd * dkv;
    const float *k = c->k + (size_t)b * lk * width + hd * dkv;
    const float *v = c->v + (size_t)b * lk * width + hd * dkv;
    float *o = c->out + (size_t)b * lq * width + hd * dkv;
    float *p = c->p_out + (size_t)t * lq * lk;
    for (int i = 0; i < lq; i++, p += lk) {
      const float *qi = q + (size_t)i * width;
      float max = -INFINITY;
      for (int j = 0; j < lk; j++) {
        const float *kj = k + (size_t)j * width;
        float s = 0.0f;
        for (int d = 0; d < dkv; d++) s += qi[d] * kj[d];
        s = s + bias_of(c, b, hd, i, j);
        p[j] = s;
        if (s > max) max = s;
      }
      double sum = 0.0;
      for (int j = 0; j < lk; j++) {
        float e = expf(p[j] - max);
        p[j] = e;
        sum += e;
      }
      float inv = (float)(1.0 / sum);
      float *oi = o + (size_t)i * width;
      for (int d = 0; d < dkv; d++) oi[d] = 0.0f;
      for (int j = 0; j < lk; j++) {
        float pj = p[j] * inv;
        p[j] = pj;
        const float *vj = v + (size_t)j * width;
        for (int d = 0; d < dkv; d++) oi[d] += pj * vj[d];
      }
    }
  }
}

void fidkd_attention(const float *q, const float *k, const float *v, const float *pos, const int32_t *mask,
                     float *out, float *probs, int n, int h, int lq, int lk, int dkv, int causal) {
  attn_ctx c = {.q = q, .k = k, .v = v, .pos = pos, .mask = mask, .out = out, .p_out = probs,
                .n = n, .h = h, .lq = lq, .lk = lk, .dkv = dkv, .causal = causal};
  fidkd_parallel_for((size_t)n * h, 2, fwd_range, &c);
}

static void bwd_range(void *vctx, size_t begin, size_t end) {
  const attn_ctx *c = (const attn_ctx *)vctx;
  const int lq = c->lq, lk = c->lk, dkv = c->dkv, width = c->h * c->dkv;
  float *dp = malloc(sizeof(float) * (size_t)lk);
  for (size_t t = begin; t < end; t++) {
    int b = (int)(t / c->h), hd = (int)(t % c->h);
    size_t qoff = (size_t)b * lq * width + hd * dkv, koff = (size_t)b * lk * width + hd * dkv;
    const float *q = c->q + qoff, *k = c->k + koff, *v = c->v + koff, *dy = c->dy + qoff;
    float *dq = c->dq + qoff, *dk = c->dk + koff, *dv = c->dv + koff;
    const float *p = c->probs + (size_t)t * lq * lk;
    float *ds = c->ds ? c->ds + (size_t)t * lq * lk : NULL;
    for (int i = 0; i < lq; i++, p += lk) {
      const float *dyi = dy + (size_t)i * width, *qi = q + (size_t)i * width;
      float *dqi = dq + (size_t)i * width;
      double dot = 0.0;
      for (int j = 0; j < lk; j++) {
        const float *vj = v + (size_t)j * width;
        float s = 0.0f;
        for (int d = 0; d < dkv; d++) s += dyi[d] * vj[d];
        dp[j] = s;
        dot += (double)s * p[j];
      }
      float fdot = (float)dot;
      for (int d = 0; d < dkv; d++) dqi[d] = 0.0f;
      for (int j = 0; j < lk; j++) {
        float pj = p[j];
        float g = pj * (dp[j] - fdot);
        if (ds) ds[(size_t)i * lk + j] = g;
        const float *kj = k + (size_t)j * width;
        float *dkj = dk + (size_t)j * width, *dvj = dv + (size_t)j * width;
        for (int d = 0; d < dkv; d++) {
          dqi[d] += g * kj[d];
          dkj[d] += g * qi[d];
          dvj[d] += pj * dyi[d];
        }
      }
    }
  }
  free(dp);
}

typedef struct {
  const float *ds;
  float *dpos;
  size_t n, block;
} dpos_ctx;

/* dpos[e] = sum over sequences of ds[b, e], e over H*Lq*Lk. */
static void dpos_range(void *vctx, size_t begin, size_t end) {
  const dpos_ctx *c = (const dpos_ctx *)vctx;
  for (size_t e = begin; e < end; e++) {
    float s = 0.0f;
    for (size_t b = 0; b < c->n; b++) s += c->ds[b * c->block + e];
    c->dpos[e] = s;
  }
}

void fidkd_attention_grad(const float *dy, const float *q, const float *k, const float *v, const float *probs,
                          float *dq, float *dk, float *dv, float *dpos, float *scratch, int n, int h, int lq,
                          int lk, int dkv) {
  size_t width = (size_t)h * dkv;
  memset(dk, 0, sizeof(float) * (size_t)n * lk * width);
  memset(dv, 0, sizeof(float) * (size_t)n * lk * width);
  attn_ctx c = {.q = q, .k = k, .v = v, .dy = dy, .probs = probs, .dq = dq, .dk = dk, .dv = dv,
                .ds = dpos ? scratch : NULL, .n = n, .h = h, .lq = lq, .lk = lk, .dkv = dkv};
  fidkd_parallel_for((size_t)n * h, 2, bwd_range, &c);
  if (dpos) {
    dpos_ctx d = {scratch, dpos, (size_t)n, (size_t)h * lq * lk};
    fidkd_parallel_for(d.block, 4096, dpos_range, &d);
  }
}
