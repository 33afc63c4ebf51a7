/* Data movement: transpose, gather along an axis, and its gradient (unsorted segment sum). */
#include "kernels.h"
#include "pool.h"
#include <string.h>

#define TILE 32

typedef struct {
  const float *x;
  float *out;
  int rank;                      /* output rank after collapsing */
  int64_t oshape[FIDKD_MAX_RANK];
  int64_t istride[FIDKD_MAX_RANK]; /* input stride of each output dim */
  int q;                         /* output dim whose input stride is 1 (-1 when it is the last one) */
  size_t outer;                  /* product of output dims other than q and rank-1 */
} tr_ctx;

/* Decodes an outer item into input/output offsets, skipping dims q and rank-1. */
static void outer_offsets(const tr_ctx *t, size_t item, int64_t *ioff, int64_t *ooff) {
  int64_t io = 0, oo = 0, ostride = 1;
  int64_t ostr[FIDKD_MAX_RANK];
  for (int d = t->rank - 1; d >= 0; d--) { ostr[d] = ostride; ostride *= t->oshape[d]; }
  for (int d = t->rank - 1; d >= 0; d--) {
    if (d == t->rank - 1 || d == t->q) continue;
    int64_t i = (int64_t)(item % (size_t)t->oshape[d]);
    item /= (size_t)t->oshape[d];
    io += i * t->istride[d];
    oo += i * ostr[d];
  }
  *ioff = io;
  *ooff = oo;
}

static void copy_rows_range(void *vctx, size_t b, size_t e) {
  const tr_ctx *t = (const tr_ctx *)vctx;
  size_t n = (size_t)t->oshape[t->rank - 1];
  for (size_t it = b; it < e; it++) {
    int64_t io, oo;
    outer_offsets(t, it, &io, &oo);
    memcpy(t->out + oo, t->x + io, n * sizeof(float));
  }
}

static void tile_range(void *vctx, size_t b, size_t e) {
  const tr_ctx *t = (const tr_ctx *)vctx;
  int L = t->rank - 1;
  int64_t nq = t->oshape[t->q], nl = t->oshape[L];
  int64_t ostr_q = 1;
  for (int d = t->q + 1; d < t->rank; d++) ostr_q *= t->oshape[d];
  int64_t istr_l = t->istride[L];
  for (size_t it = b; it < e; it++) {
    int64_t io, oo;
    outer_offsets(t, it, &io, &oo);
    for (int64_t q0 = 0; q0 < nq; q0 += TILE) {
      int64_t q1 = q0 + TILE < nq ? q0 + TILE : nq;
      for (int64_t l0 = 0; l0 < nl; l0 += TILE) {
        int64_t l1 = l0 + TILE < nl ? l0 + TILE : nl;
        for (int64_t qi = q0; qi < q1; qi++) {
          float *dst = t->out + oo + qi * ostr_q;
          const float *src = t->x + io + qi;
          for (int64_t li = l0; li < l1; li++) dst[li] = src[li * istr_l];
        }
      }
    }
  }
}

void fidkd_transpose(const float *x, float *out, int rank, const int64_t *in_shape, const int *perm) {
  /* Collapse runs of output dims that are consecutive in the input too. */
  int64_t istr_in[FIDKD_MAX_RANK];
  int64_t s = 1;
  size_t total = 1;
  for (int d = rank - 1; d >= 0; d--) { istr_in[d] = s; s *= in_shape[d]; total *= (size_t)in_shape[d]; }
  if (total == 0) return;
  tr_ctx t;
  memset(&t, 0, sizeof t);
  t.x = x;
  t.out = out;
  int r = 0;
  for (int d = 0; d < rank; d++) {
    int p = perm[d];
    if (in_shape[p] == 1) continue; /* size-1 dims do not move data */
    if (r > 0 && t.istride[r - 1] == istr_in[p] * in_shape[p]) {
      t.oshape[r - 1] *= in_shape[p];
      t.istride[r - 1] = istr_in[p];
    } else {
      t.oshape[r] = in_shape[p];
      t.istride[r] = istr_in[p];
      r++;
    }
  }
  if (r <= 1) { memcpy(out, x, total * sizeof(float)); return; }
  t.rank = r;
  int L = r - 1;
  if (t.istride[L] == 1) {
    t.q = -1;
    t.outer = total / (size_t)t.oshape[L];
    size_t min_items = 32768 / (size_t)t.oshape[L];
    fidkd_parallel_for(t.outer, min_items < 2 ? 2 : min_items, copy_rows_range, &t);
    return;
  }
  t.q = 0;
  for (int d = 0; d < L; d++) if (t.istride[d] == 1) t.q = d;
  t.outer = total / ((size_t)t.oshape[L] * (size_t)t.oshape[t.q]);
  if (t.outer >= 2) {
    size_t per = total / t.outer;
    size_t min_items = 32768 / per;
    fidkd_parallel_for(t.outer, min_items < 2 ? 2 : min_items, tile_range, &t);
  } else {
    tile_range(&t, 0, t.outer);
  }
}

typedef struct {
  const float *x;
  const int32_t *idx;
  float *out;
  size_t dim, nidx, slice;
} ga_ctx;

static void gather_range(void *vctx, size_t b, size_t e) {
  const ga_ctx *g = (const ga_ctx *)vctx;
  for (size_t it = b; it < e; it++) {
    size_t o = it / g->nidx, i = it % g->nidx;
    memcpy(g->out + it * g->slice, g->x + (o * g->dim + (size_t)g->idx[i]) * g->slice, g->slice * sizeof(float));
  }
}

int64_t fidkd_gather(const float *x, const int32_t *idx, float *out, size_t outer, size_t dim, size_t nidx,
                     size_t slice) {
  for (size_t i = 0; i < nidx; i++)
    if (idx[i] < 0 || (size_t)idx[i] >= dim) return (int64_t)i;
  ga_ctx g = {x, idx, out, dim, nidx, slice};
  size_t items = outer * nidx;
  size_t min_items = 32768 / (slice ? slice : 1);
  fidkd_parallel_for(items, min_items < 2 ? 2 : min_items, gather_range, &g);
  return -1;
}

typedef struct {
  const float *x;
  const int32_t *ids;
  float *out;
  size_t nids, slice, nseg, chunk;
} seg_ctx;

/* Work items are column chunks, so threads never write the same output element. */
static void seg_range(void *vctx, size_t b, size_t e) {
  const seg_ctx *s = (const seg_ctx *)vctx;
  size_t j0 = b * s->chunk, j1 = e * s->chunk < s->slice ? e * s->chunk : s->slice;
  for (size_t i = 0; i < s->nids; i++) {
    int32_t id = s->ids[i];
    if (id < 0 || (size_t)id >= s->nseg) continue;
    float *dst = s->out + (size_t)id * s->slice;
    const float *src = s->x + i * s->slice;
    for (size_t j = j0; j < j1; j++) dst[j] += src[j];
  }
}

void fidkd_unsorted_segment_sum(const float *x, const int32_t *ids, float *out, size_t nids, size_t slice,
                                size_t nseg) {
  memset(out, 0, nseg * slice * sizeof(float));
  if (slice == 0) return;
  seg_ctx s = {x, ids, out, nids, slice, nseg, 64};
  size_t nchunks = (slice + s.chunk - 1) / s.chunk;
  fidkd_parallel_for(nchunks, nids * slice >= 32768 ? 2 : nchunks + 1, seg_range, &s);
}
