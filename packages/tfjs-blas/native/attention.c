/* T5 attention as one kernel (forward and backward), for the tiny heads (d_kv 8–64, tens of tokens) where
 * the split-heads transposes, the bias tensor, the softmax and a thousand tiny sgemm calls cost far more
 * than the arithmetic. Queries, keys and values stay in the projections' [N, L, H*dkv] layout; one task per
 * (sequence, head) pair, spread over the pool. Semantics of HF T5Attention: scores q·kᵀ (no 1/sqrt(d)),
 * plus (position bias + mask value) added in float32, where the mask value is finfo(float32).min for padded
 * keys (mask 0) or, when causal, keys after the query. */
#include "kernels.h"
#include "vmath.h"
#include <cblas.h>
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
  float *ds_all; /* dS of every (sequence, head) [n·h, lq, lk], summed into dpos over sequences afterwards */
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

/* Scores of query row i (in s, q·kᵀ already there) → probabilities in place: bias and mask, max-shifted exp,
 * normalised. */
static inline void softmax_row(const attn_ctx *c, int b, int hd, int i, float *restrict s) {
  const int lk = c->lk;
  add_bias(c, b, hd, i, s);
  const float max = row_max(s, lk);
  for (int j = 0; j < lk; j++) s[j] = exp_nonpos(s[j] - max);
  const float inv = (float)(1.0 / row_sum(s, lk));
  for (int j = 0; j < lk; j++) s[j] *= inv;
}

/* Heads of a BERT / t5-small size (hundreds of tokens, d_kv 64): per (sequence, head) the two products as
 * single-threaded sgemm calls reading q, k, v in place (their row strides are ldq, ldk), the softmax between. */
static void fwd_range_gemm(void *vctx, size_t begin, size_t end) {
  const attn_ctx *c = (const attn_ctx *)vctx;
  const int lq = c->lq, lk = c->lk, dkv = c->dkv;
  const size_t width = (size_t)c->h * dkv, ldq = c->ldq, ldk = c->ldk;
  for (size_t t = begin; t < end; t++) {
    int b = (int)(t / c->h), hd = (int)(t % c->h);
    const float *q = c->q + (size_t)b * lq * ldq + hd * dkv;
    const float *k = c->k + (size_t)b * lk * ldk + hd * dkv, *v = c->v + (size_t)b * lk * ldk + hd * dkv;
    float *p = c->p_out + t * lq * lk;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, lq, lk, dkv, 1.0f, q, (int)ldq, k, (int)ldk, 0.0f, p, lk);
    for (int i = 0; i < lq; i++) softmax_row(c, b, hd, i, p + (size_t)i * lk);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, lq, dkv, lk, 1.0f, p, lk, v, (int)ldk, 0.0f,
                c->out + (size_t)b * lq * width + hd * dkv, (int)width);
  }
}

/* Multiply-adds of one (sequence, head) product from which sgemm beats the register-blocked loops. */
#define GEMM_MIN_MACS (64 * 64 * 32)

static int use_gemm(int lq, int lk, int dkv) { return (size_t)lq * lk * dkv >= GEMM_MIN_MACS; }

/* Runs fn over the (sequence, head) pairs on the pool; sgemm inside a task runs single-threaded (OpenBLAS's
 * threads would compete with the pool's for the same cores). */
static void over_heads(attn_ctx *c, fidkd_range_fn fn, int gemm) {
  int saved = gemm ? fidkd_blas_threads() : 1;
  if (saved > 1) fidkd_blas_set_threads(1);
  fidkd_parallel_for((size_t)c->n * c->h, 2, fn, c);
  if (saved > 1) fidkd_blas_set_threads(saved);
}

void fidkd_attention(const float *q, const float *k, const float *v, size_t ldq, size_t ldk, const float *pos,
                     const int32_t *mask, float *out, float *probs, int n, int h, int lq, int lk, int dkv,
                     int causal) {
  attn_ctx c = {.q = q, .k = k, .v = v, .pos = pos, .mask = mask, .out = out, .p_out = probs,
                .n = n, .h = h, .lq = lq, .lk = lk, .dkv = dkv, .causal = causal, .ldq = ldq, .ldk = ldk};
  int gemm = use_gemm(lq, lk, dkv);
  over_heads(&c, gemm ? fwd_range_gemm : fwd_range, gemm);
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

static void bwd_range(void *vctx, size_t begin, size_t end) {
  const attn_ctx *c = (const attn_ctx *)vctx;
  const int lq = c->lq, lk = c->lk, dkv = c->dkv;
  const size_t width = (size_t)c->h * dkv, hsize = (size_t)lk * dkv, ldq = c->ldq, ldk = c->ldk;
  /* Packed per (sequence, head): k [lk, dkv], vᵀ [dkv, lk], and the dk, dv accumulators [lk, dkv]. */
  float *kp = malloc(sizeof(float) * (hsize * 5 + (size_t)lk));
  float *vt = kp + hsize, *dkp = vt + hsize, *dvp = dkp + hsize, *scratch = dvp + hsize, *g = scratch + hsize;
  for (size_t t = begin; t < end; t++) {
    int b = (int)(t / c->h), hd = (int)(t % c->h);
    size_t qoff = (size_t)b * lq * ldq + hd * dkv, koff = (size_t)b * lk * ldk + hd * dkv;
    const float *q = c->q + qoff, *dy = c->dy + (size_t)b * lq * width + hd * dkv;
    float *dq = c->dq + qoff;
    const float *p = c->probs + t * lq * lk;
    float *ds = c->ds_all ? c->ds_all + t * lq * lk : NULL;
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
      if (ds) memcpy(ds + (size_t)i * lk, g, sizeof(float) * (size_t)lk);
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
  free(kp);
}

/* The backward of fwd_range_gemm: dP = dy·vᵀ, dS = P∘(dP − Σ dP∘P) per row, then dq = dS·k, dk = dSᵀ·q,
 * dv = Pᵀ·dy as sgemm calls writing every element of this head's columns. */
static void bwd_range_gemm(void *vctx, size_t begin, size_t end) {
  const attn_ctx *c = (const attn_ctx *)vctx;
  const int lq = c->lq, lk = c->lk, dkv = c->dkv;
  const size_t width = (size_t)c->h * dkv, ldq = c->ldq, ldk = c->ldk;
  float *g = malloc(sizeof(float) * ((size_t)lq * lk + (size_t)lk));
  float *scratch = g + (size_t)lq * lk;
  for (size_t t = begin; t < end; t++) {
    int b = (int)(t / c->h), hd = (int)(t % c->h);
    size_t qoff = (size_t)b * lq * ldq + hd * dkv, koff = (size_t)b * lk * ldk + hd * dkv;
    const float *q = c->q + qoff, *k = c->k + koff, *v = c->v + koff;
    const float *dy = c->dy + (size_t)b * lq * width + hd * dkv;
    const float *p = c->probs + t * lq * lk;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, lq, lk, dkv, 1.0f, dy, (int)width, v, (int)ldk, 0.0f, g, lk);
    for (int i = 0; i < lq; i++) {
      float *gi = g + (size_t)i * lk;
      const float *pi = p + (size_t)i * lk;
      for (int j = 0; j < lk; j++) scratch[j] = gi[j] * pi[j];
      const float fdot = (float)row_sum(scratch, lk);
      for (int j = 0; j < lk; j++) gi[j] = pi[j] * (gi[j] - fdot);
    }
    if (c->ds_all) memcpy(c->ds_all + t * lq * lk, g, sizeof(float) * (size_t)lq * lk);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, lq, dkv, lk, 1.0f, g, lk, k, (int)ldk, 0.0f, c->dq + qoff, (int)ldq);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, lk, dkv, lq, 1.0f, g, lk, q, (int)ldq, 0.0f, c->dk + koff, (int)ldk);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, lk, dkv, lq, 1.0f, p, lk, dy, (int)width, 0.0f, c->dv + koff, (int)ldk);
  }
  free(g);
}

/* dpos rows [begin, end) of the h·lq rows: the sum of dS over sequences in sequence order, whatever the threads. */
static void dpos_range(void *vctx, size_t begin, size_t end) {
  const attn_ctx *c = (const attn_ctx *)vctx;
  const size_t lk = (size_t)c->lk, block = (size_t)c->lq * lk, heads = (size_t)c->h;
  for (size_t r = begin; r < end; r++) {
    size_t hd = r / (size_t)c->lq, i = r % (size_t)c->lq;
    float *out = c->dpos + r * lk;
    memset(out, 0, sizeof(float) * lk);
    for (size_t b = 0; b < (size_t)c->n; b++) {
      const float *ds = c->ds_all + (b * heads + hd) * block + i * lk;
      for (size_t j = 0; j < lk; j++) out[j] += ds[j];
    }
  }
}

void fidkd_attention_grad(const float *dy, const float *q, const float *k, const float *v, size_t ldq, size_t ldk,
                          const float *probs, float *dq, float *dk, float *dv, float *dpos, int n, int h, int lq,
                          int lk, int dkv) {
  attn_ctx c = {.q = q, .k = k, .v = v, .dy = dy, .probs = probs, .dq = dq, .dk = dk, .dv = dv, .dpos = dpos,
                .n = n, .h = h, .lq = lq, .lk = lk, .dkv = dkv, .ldq = ldq, .ldk = ldk};
  /* dpos is a sum over sequences: every dS is kept and summed afterwards in sequence order, so that it does not
   * depend on which thread finished first. */
  if (dpos) c.ds_all = malloc(sizeof(float) * (size_t)n * h * lq * lk);
  int gemm = use_gemm(lq, lk, dkv);
  over_heads(&c, gemm ? bwd_range_gemm : bwd_range, gemm);
  if (dpos) {
    fidkd_parallel_for((size_t)h * lq, 2, dpos_range, &c);
    free(c.ds_all);
  }
}
