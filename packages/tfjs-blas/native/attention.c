/* T5 attention as one kernel (forward and backward), for the tiny heads (d_kv 8–64, tens of tokens) where
 * the split-heads transposes, the bias tensor, the softmax and a thousand tiny sgemm calls cost far more
 * than the arithmetic. Queries, keys and values stay in the projections' [N, L, H*dkv] layout; one task per
 * (sequence, head) pair, spread over the pool. Semantics of HF T5Attention: scores q·kᵀ (no 1/sqrt(d)),
 * plus (position bias + mask value) added in float32, where the mask value is finfo(float32).min for padded
 * keys (mask 0) or, when causal, keys after the query. */
#include "kernels.h"
#include "vmath.h"
#include "pool.h"
#include <float.h>
#include <pthread.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const float *q, *k, *v, *pos, *dy, *probs;
  const int32_t *mask;
  float *out, *p_out, *dq, *dk, *dv, *dpos;
  int n, h, lq, lk, dkv, causal;
  size_t ldq, ldk; /* row strides of q (and dq), of k, v (and dk, dv): h*dkv, or 3*h*dkv when packed */
} attn_ctx;

/* s[j] += fl(pos + mask value) for query i of sequence b, head hd: what tfjs/HF add to q·kᵀ. */
static inline void add_bias(const attn_ctx *c, int b, int hd, int i, float *restrict s) {
  const float *pr = c->pos ? c->pos + ((size_t)hd * c->lq + i) * c->lk : NULL;
  const int32_t *mr = c->mask ? c->mask + (size_t)b * c->lk : NULL;
  for (int j = 0; j < c->lk; j++) {
    float bj = pr ? pr[j] : 0.0f;
    if ((mr && mr[j] == 0) || (c->causal && j > i)) bj = bj + -FLT_MAX;
    s[j] += bj;
  }
}

/* Copies head hd of rows [l, width] at x into dst [l, dkv] (and, when dst_t, its transpose [dkv, l]). */
static void pack_head(const float *x, size_t width, int l, int dkv, float *restrict dst, float *restrict dst_t) {
  for (int j = 0; j < l; j++) {
    const float *row = x + (size_t)j * width;
    for (int d = 0; d < dkv; d++) {
      dst[(size_t)j * dkv + d] = row[d];
      if (dst_t) dst_t[(size_t)d * l + j] = row[d];
    }
  }
}

/* Calls f(args..., D) with D a compile-time constant for the common d_kv (8, 16, 32, 64), so that the inlined
 * loops over d are unrolled with their sums in registers; any other d_kv runs the same code with D variable. */
#define WITH_DKV(dkv, f, ...)                  \
  do {                                         \
    switch (dkv) {                             \
      case 8: f(__VA_ARGS__, 8); break;        \
      case 16: f(__VA_ARGS__, 16); break;      \
      case 32: f(__VA_ARGS__, 32); break;      \
      case 64: f(__VA_ARGS__, 64); break;      \
      default: f(__VA_ARGS__, dkv);            \
    }                                          \
  } while (0)

/* Lane-wise reductions over n floats (8 independent lanes, so that they vectorise without reassociation). */
static inline float row_max(const float *restrict s, int n) {
  float lane[8];
  for (int k = 0; k < 8; k++) lane[k] = -INFINITY;
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; k++) lane[k] = s[j + k] > lane[k] ? s[j + k] : lane[k];
  float m = -INFINITY;
  for (int k = 0; k < 8; k++) m = lane[k] > m ? lane[k] : m;
  for (; j < n; j++) m = s[j] > m ? s[j] : m;
  return m;
}

static inline double row_sum(const float *restrict s, int n) {
  float lane[8] = {0};
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; k++) lane[k] += s[j + k];
  double sum = 0.0;
  for (int k = 0; k < 8; k++) sum += lane[k];
  for (; j < n; j++) sum += s[j];
  return sum;
}

/* s[j] = Σ_d x[d] · mt[d, j] for j < n (mt packed [D, n]): 16 keys at a time with the sums in registers,
 * each summed over d in order. */
static inline __attribute__((always_inline)) void dot_columns(const float *restrict x, const float *restrict mt, int n,
                                                              float *restrict s, const int D) {
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    float acc[16];
    for (int k = 0; k < 16; k++) acc[k] = 0.0f;
    for (int d = 0; d < D; d++)
      for (int k = 0; k < 16; k++) acc[k] += x[d] * mt[(size_t)d * n + j + k];
    for (int k = 0; k < 16; k++) s[j + k] = acc[k];
  }
  for (; j < n; j++) {
    float a = 0.0f;
    for (int d = 0; d < D; d++) a += x[d] * mt[(size_t)d * n + j];
    s[j] = a;
  }
}

/* out[0..D) = Σ_j p[j] · v[j, 0..D) with v packed [n, D]; with D a constant the accumulator stays in registers
 * instead of round-tripping through memory every key. */
static inline __attribute__((always_inline)) void weighted_rows(const float *restrict p, const float *restrict v, int n,
                                                                float *restrict out, const int D) {
  float acc[D];
  for (int d = 0; d < D; d++) acc[d] = 0.0f;
  for (int j = 0; j < n; j++)
    for (int d = 0; d < D; d++) acc[d] += p[j] * v[(size_t)j * D + d];
  for (int d = 0; d < D; d++) out[d] = acc[d];
}

static void fwd_range(void *vctx, size_t begin, size_t end) {
  const attn_ctx *c = (const attn_ctx *)vctx;
  const int lq = c->lq, lk = c->lk, dkv = c->dkv;
  const size_t width = (size_t)c->h * dkv, ldq = c->ldq, ldk = c->ldk;
  /* Per (sequence, head): kᵀ [dkv, lk] and v [lk, dkv] packed, so that the inner loops run over contiguous
   * memory (over keys for q·kᵀ, over d for probs·v) and vectorise without reassociating sums. */
  float *kt = malloc(sizeof(float) * (size_t)lk * dkv * 2);
  float *vp = kt + (size_t)lk * dkv;
  for (size_t t = begin; t < end; t++) {
    int b = (int)(t / c->h), hd = (int)(t % c->h);
    const float *q = c->q + (size_t)b * lq * ldq + hd * dkv;
    float *o = c->out + (size_t)b * lq * width + hd * dkv;
    float *p = c->p_out + t * lq * lk;
    pack_head(c->k + (size_t)b * lk * ldk + hd * dkv, ldk, lk, dkv, vp, kt); /* vp as scratch for k */
    pack_head(c->v + (size_t)b * lk * ldk + hd * dkv, ldk, lk, dkv, vp, NULL);
    for (int i = 0; i < lq; i++, p += lk) {
      const float *qi = q + (size_t)i * ldq;
      float *restrict s = p;
      WITH_DKV(dkv, dot_columns, qi, kt, lk, s);
      add_bias(c, b, hd, i, s);
      const float max = row_max(s, lk);
      for (int j = 0; j < lk; j++) s[j] = exp_nonpos(s[j] - max);
      const float inv = (float)(1.0 / row_sum(s, lk));
      for (int j = 0; j < lk; j++) s[j] *= inv;
      WITH_DKV(dkv, weighted_rows, s, vp, lk, o + (size_t)i * width);
    }
  }
  free(kt);
}

void fidkd_attention(const float *q, const float *k, const float *v, size_t ldq, size_t ldk, const float *pos,
                     const int32_t *mask, float *out, float *probs, int n, int h, int lq, int lk, int dkv,
                     int causal) {
  attn_ctx c = {.q = q, .k = k, .v = v, .pos = pos, .mask = mask, .out = out, .p_out = probs,
                .n = n, .h = h, .lq = lq, .lk = lk, .dkv = dkv, .causal = causal, .ldq = ldq, .ldk = ldk};
  fidkd_parallel_for((size_t)n * h, 2, fwd_range, &c);
}

/* One query row of the backward pass: dq[0..D) = Σ_j g[j]·k[j], dk[j] += g[j]·q, dv[j] += p[j]·dy, with k, dk,
 * dv packed [n, D]. */
static inline __attribute__((always_inline)) void grad_row(const float *restrict g, const float *restrict p,
                                                           const float *restrict k, const float *restrict qi,
                                                           const float *restrict dyi, float *restrict dk,
                                                           float *restrict dv, int n, float *restrict dqi,
                                                           const int D) {
  float acc[D], qv[D], dyv[D];
  for (int d = 0; d < D; d++) {
    acc[d] = 0.0f;
    qv[d] = qi[d];
    dyv[d] = dyi[d];
  }
  for (int j = 0; j < n; j++) {
    const float gj = g[j], pj = p[j];
    for (int d = 0; d < D; d++) {
      acc[d] += gj * k[(size_t)j * D + d];
      dk[(size_t)j * D + d] += gj * qv[d];
      dv[(size_t)j * D + d] += pj * dyv[d];
    }
  }
  for (int d = 0; d < D; d++) dqi[d] = acc[d];
}

static pthread_mutex_t dpos_lock = PTHREAD_MUTEX_INITIALIZER;

static void bwd_range(void *vctx, size_t begin, size_t end) {
  const attn_ctx *c = (const attn_ctx *)vctx;
  const int lq = c->lq, lk = c->lk, dkv = c->dkv;
  const size_t width = (size_t)c->h * dkv, hsize = (size_t)lk * dkv, ldq = c->ldq, ldk = c->ldk;
  /* Packed per (sequence, head): k [lk, dkv], vᵀ [dkv, lk], and the dk, dv accumulators [lk, dkv]. */
  float *kp = malloc(sizeof(float) * (hsize * 5 + (size_t)lk));
  float *vt = kp + hsize, *dkp = vt + hsize, *dvp = dkp + hsize, *scratch = dvp + hsize, *g = scratch + hsize;
  /* This range's share of dpos (the sum over sequences), added to the shared one once at the end. */
  float *dpos = c->dpos ? calloc((size_t)c->h * lq * lk, sizeof(float)) : NULL;
  for (size_t t = begin; t < end; t++) {
    int b = (int)(t / c->h), hd = (int)(t % c->h);
    size_t qoff = (size_t)b * lq * ldq + hd * dkv, koff = (size_t)b * lk * ldk + hd * dkv;
    const float *q = c->q + qoff, *dy = c->dy + (size_t)b * lq * width + hd * dkv;
    float *dq = c->dq + qoff;
    const float *p = c->probs + t * lq * lk;
    float *ds = dpos ? dpos + (size_t)hd * lq * lk : NULL;
    pack_head(c->k + koff, ldk, lk, dkv, kp, NULL);
    pack_head(c->v + koff, ldk, lk, dkv, scratch, vt);
    memset(dkp, 0, sizeof(float) * hsize * 2);
    for (int i = 0; i < lq; i++, p += lk) {
      const float *dyi = dy + (size_t)i * width, *qi = q + (size_t)i * ldq;
      /* dP = dy·vᵀ, then dS = P ∘ (dP − Σ dP∘P) */
      WITH_DKV(dkv, dot_columns, dyi, vt, lk, g);
      for (int j = 0; j < lk; j++) scratch[j] = g[j] * p[j];
      const float fdot = (float)row_sum(scratch, lk);
      for (int j = 0; j < lk; j++) g[j] = p[j] * (g[j] - fdot);
      if (ds) {
        float *dsi = ds + (size_t)i * lk;
        for (int j = 0; j < lk; j++) dsi[j] += g[j];
      }
      WITH_DKV(dkv, grad_row, g, p, kp, qi, dyi, dkp, dvp, lk, dq + (size_t)i * ldq);
    }
    float *dk = c->dk + koff, *dv = c->dv + koff;
    for (int j = 0; j < lk; j++) {
      for (int d = 0; d < dkv; d++) {
        dk[(size_t)j * ldk + d] = dkp[(size_t)j * dkv + d];
        dv[(size_t)j * ldk + d] = dvp[(size_t)j * dkv + d];
      }
    }
  }
  if (dpos) {
    pthread_mutex_lock(&dpos_lock);
    for (size_t e = 0, m = (size_t)c->h * lq * lk; e < m; e++) c->dpos[e] += dpos[e];
    pthread_mutex_unlock(&dpos_lock);
    free(dpos);
  }
  free(kp);
}

void fidkd_attention_grad(const float *dy, const float *q, const float *k, const float *v, size_t ldq, size_t ldk,
                          const float *probs, float *dq, float *dk, float *dv, float *dpos, int n, int h, int lq,
                          int lk, int dkv) {
  attn_ctx c = {.q = q, .k = k, .v = v, .dy = dy, .probs = probs, .dq = dq, .dk = dk, .dv = dv, .dpos = dpos,
                .n = n, .h = h, .lq = lq, .lk = lk, .dkv = dkv, .ldq = ldq, .ldk = ldk};
  if (dpos) memset(dpos, 0, sizeof(float) * (size_t)h * lq * lk);
  fidkd_parallel_for((size_t)n * h, 2, bwd_range, &c);
}
