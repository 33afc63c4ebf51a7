/* N-API glue: every entry point takes the backend's typed arrays and writes into a preallocated output,
 * so no tensor data is copied between JavaScript and C. Argument checking is strict because a wrong length
 * here would be a memory error rather than an exception. */
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#include "pool.h"

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "fidkd_blas: N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

#define FAIL(msg)                           \
  do {                                      \
    napi_throw_error(env, NULL, msg);       \
    return NULL;                            \
  } while (0)

#define ARGS(N)                                                   \
  size_t argc = N;                                                \
  napi_value argv[N];                                             \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));    \
  if (argc < N) FAIL("fidkd_blas: expected " #N " arguments")

/* Returns data pointer and element count of a typed array of the given type; NULL for null/undefined
 * when allow_null. */
static int get_array(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len,
                     int allow_null) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (allow_null && (t == napi_null || t == napi_undefined)) {
    *data = NULL;
    *len = 0;
    return 1;
  }
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, data, &ab, &off) != napi_ok) return 0;
  return type == want;
}

#define F32(i, ptr, n)                                                                        \
  float *ptr;                                                                                 \
  size_t n;                                                                                   \
  if (!get_array(env, argv[i], napi_float32_array, (void **)&ptr, &n, 0)) FAIL("fidkd_blas: argument " #i " must be a Float32Array")
#define F32_OPT(i, ptr, n)                                                                    \
  float *ptr;                                                                                 \
  size_t n;                                                                                   \
  if (!get_array(env, argv[i], napi_float32_array, (void **)&ptr, &n, 1)) FAIL("fidkd_blas: argument " #i " must be a Float32Array or null")
#define I32(i, ptr, n)                                                                        \
  int32_t *ptr;                                                                               \
  size_t n;                                                                                   \
  if (!get_array(env, argv[i], napi_int32_array, (void **)&ptr, &n, 0)) FAIL("fidkd_blas: argument " #i " must be an Int32Array")
#define I32_OPT(i, ptr, n)                                                                    \
  int32_t *ptr;                                                                               \
  size_t n;                                                                                   \
  if (!get_array(env, argv[i], napi_int32_array, (void **)&ptr, &n, 1)) FAIL("fidkd_blas: argument " #i " must be an Int32Array or null")
#define F64(i, ptr, n)                                                                        \
  double *ptr;                                                                                \
  size_t n;                                                                                   \
  if (!get_array(env, argv[i], napi_float64_array, (void **)&ptr, &n, 0)) FAIL("fidkd_blas: argument " #i " must be a Float64Array")
#define INT(i, var)                                                   \
  int64_t var;                                                        \
  if (napi_get_value_int64(env, argv[i], &var) != napi_ok || var < 0) \
  FAIL("fidkd_blas: argument " #i " must be a non-negative integer")
#define DBL(i, var)  \
  double var;        \
  if (napi_get_value_double(env, argv[i], &var) != napi_ok) FAIL("fidkd_blas: argument " #i " must be a number")

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* gemm(a, b, c, aOffsets: Float64Array, bOffsets: Float64Array, m, n, k, transA, transB) */
static napi_value js_gemm(napi_env env, napi_callback_info info) {
  ARGS(10);
  F32(0, a, na);
  F32(1, b, nb);
  F32(2, c, nc);
  F64(3, ao, nao);
  F64(4, bo, nbo);
  INT(5, m);
  INT(6, n);
  INT(7, k);
  INT(8, ta);
  INT(9, tb);
  size_t batch = nao;
  if (nbo != batch) FAIL("fidkd_blas.gemm: offset arrays differ in length");
  size_t mat = (size_t)(m * n);
  if (nc != batch * mat) FAIL("fidkd_blas.gemm: output length is not batch*m*n");
  int64_t *aoff = malloc(sizeof(int64_t) * (batch ? batch : 1));
  int64_t *boff = malloc(sizeof(int64_t) * (batch ? batch : 1));
  if (!aoff || !boff) { free(aoff); free(boff); FAIL("fidkd_blas.gemm: out of memory"); }
  for (size_t i = 0; i < batch; i++) {
    aoff[i] = (int64_t)ao[i];
    boff[i] = (int64_t)bo[i];
    if (aoff[i] < 0 || (size_t)aoff[i] + (size_t)(m * k) > na || boff[i] < 0 || (size_t)boff[i] + (size_t)(k * n) > nb) {
      free(aoff); free(boff);
      FAIL("fidkd_blas.gemm: batch offset out of range");
    }
  }
  if (mat > 0 && batch > 0)
    fidkd_gemm_batched(a, b, c, aoff, boff, (int)batch, (int)m, (int)n, (int)k, ta != 0, tb != 0);
  free(aoff);
  free(boff);
  return undefined(env);
}

/* biasAct(c, rows, cols, bias|null, act, alpha, prelu|null) */
static napi_value js_bias_act(napi_env env, napi_callback_info info) {
  ARGS(7);
  F32(0, c, nc);
  INT(1, rows);
  INT(2, cols);
  F32_OPT(3, bias, nbias);
  INT(4, act);
  DBL(5, alpha);
  F32_OPT(6, prelu, nprelu);
  if (nc != (size_t)(rows * cols)) FAIL("fidkd_blas.biasAct: length is not rows*cols");
  if (nc == 0) return undefined(env);
  if (bias && (nbias == 0 || nc % nbias != 0 || (nbias != 1 && nbias % (size_t)cols != 0)))
    FAIL("fidkd_blas.biasAct: bias length does not tile the output rows");
  if (act == ACT_PRELU && (!prelu || nprelu == 0 || nc % nprelu != 0 || (nprelu != 1 && nprelu % (size_t)cols != 0)))
    FAIL("fidkd_blas.biasAct: prelu weights do not tile the output rows");
  fidkd_bias_act(c, (size_t)rows, (size_t)cols, bias, nbias, (int)act, (float)alpha, prelu, nprelu);
  return undefined(env);
}

/* unary(op, x, y, alpha) */
static napi_value js_unary(napi_env env, napi_callback_info info) {
  ARGS(4);
  INT(0, op);
  F32(1, x, nx);
  F32(2, y, ny);
  DBL(3, alpha);
  if (nx != ny) FAIL("fidkd_blas.unary: input and output lengths differ");
  fidkd_unary((int)op, x, y, nx, (float)alpha);
  return undefined(env);
}

static int to_i64(const double *src, size_t n, int64_t *dst) {
  if (n > FIDKD_MAX_RANK) return 0;
  for (size_t i = 0; i < n; i++) dst[i] = (int64_t)src[i];
  return 1;
}

/* binary(op, a, b, out, shape, aStrides, bStrides) — shapes/strides as Float64Array of equal rank */
static napi_value js_binary(napi_env env, napi_callback_info info) {
  ARGS(7);
  INT(0, op);
  F32(1, a, na);
  F32(2, b, nb);
  F32(3, out, nout);
  F64(4, shp, rank);
  F64(5, as, ras);
  F64(6, bs, rbs);
  int64_t shape[FIDKD_MAX_RANK], sa[FIDKD_MAX_RANK], sb[FIDKD_MAX_RANK];
  if (rank == 0 || ras != rank || rbs != rank || !to_i64(shp, rank, shape) || !to_i64(as, rank, sa) ||
      !to_i64(bs, rank, sb))
    FAIL("fidkd_blas.binary: bad rank");
  size_t total = 1;
  int64_t amax = 0, bmax = 0;
  for (size_t d = 0; d < rank; d++) {
    total *= (size_t)shape[d];
    if (shape[d] > 0) { amax += (shape[d] - 1) * sa[d]; bmax += (shape[d] - 1) * sb[d]; }
  }
  if (total != nout) FAIL("fidkd_blas.binary: output length does not match shape");
  if (total > 0 && ((size_t)amax >= na || (size_t)bmax >= nb)) FAIL("fidkd_blas.binary: strides exceed input");
  if (total > 0) fidkd_binary((int)op, a, b, out, (int)rank, shape, sa, sb);
  return undefined(env);
}

/* softmax(x, y, rows, cols) */
static napi_value js_softmax(napi_env env, napi_callback_info info) {
  ARGS(4);
  F32(0, x, nx);
  F32(1, y, ny);
  INT(2, rows);
  INT(3, cols);
  if (nx != ny || nx != (size_t)(rows * cols)) FAIL("fidkd_blas.softmax: lengths do not match rows*cols");
  fidkd_softmax(x, y, (size_t)rows, (size_t)cols);
  return undefined(env);
}

/* attention(q | qkv, k | null, v | null, pos | null, mask | null, out, probs, n, h, lq, lk, dkv, causal, packed):
 * packed: argument 0 is one [n, l, 3*h*dkv] projection holding q, k, v side by side (self-attention, lq = lk). */
static napi_value js_attention(napi_env env, napi_callback_info info) {
  ARGS(14);
  F32(0, q, nq);
  F32_OPT(1, k, nk);
  F32_OPT(2, v, nv);
  F32_OPT(3, pos, npos);
  I32_OPT(4, mask, nmask);
  F32(5, out, nout);
  F32(6, probs, nprobs);
  INT(7, n);
  INT(8, h);
  INT(9, lq);
  INT(10, lk);
  INT(11, dkv);
  INT(12, causal);
  INT(13, packed);
  size_t width = (size_t)(h * dkv);
  if (packed) {
    if (lq != lk || nq != (size_t)(n * lq) * width * 3) FAIL("fidkd_blas.attention: packed qkv must be [n, l, 3*h*dkv]");
    k = q + width;
    v = q + 2 * width;
  } else if (!k || !v || nq != (size_t)(n * lq) * width || nk != (size_t)(n * lk) * width || nv != nk) {
    FAIL("fidkd_blas.attention: q, k, v lengths do not match n, h, lq, lk, dkv");
  }
  size_t ldq = packed ? 3 * width : width, ldk = ldq;
  if (nout != (size_t)(n * lq) * width || nprobs != (size_t)(n * h * lq * lk) || (pos && npos != (size_t)(h * lq * lk)) ||
      (mask && nmask != (size_t)(n * lk)))
    FAIL("fidkd_blas.attention: lengths do not match n, h, lq, lk, dkv");
  fidkd_attention(q, k, v, ldq, ldk, pos, mask, out, probs, (int)n, (int)h, (int)lq, (int)lk, (int)dkv, causal != 0);
  return undefined(env);
}

/* attentionGrad(dy, q | qkv, k | null, v | null, probs, dq | dqkv, dk | null, dv | null, dpos | null,
 *               n, h, lq, lk, dkv, packed) */
static napi_value js_attention_grad(napi_env env, napi_callback_info info) {
  ARGS(15);
  F32(0, dy, ndy);
  F32(1, q, nq);
  F32_OPT(2, k, nk);
  F32_OPT(3, v, nv);
  F32(4, probs, nprobs);
  F32(5, dq, ndq);
  F32_OPT(6, dk, ndk);
  F32_OPT(7, dv, ndv);
  F32_OPT(8, dpos, ndpos);
  INT(9, n);
  INT(10, h);
  INT(11, lq);
  INT(12, lk);
  INT(13, dkv);
  INT(14, packed);
  size_t width = (size_t)(h * dkv), np = (size_t)(n * h * lq * lk);
  if (packed) {
    if (lq != lk || nq != (size_t)(n * lq) * width * 3 || ndq != nq) FAIL("fidkd_blas.attentionGrad: packed qkv and dqkv must be [n, l, 3*h*dkv]");
    k = q + width;
    v = q + 2 * width;
    dk = dq + width;
    dv = dq + 2 * width;
  } else if (!k || !v || !dk || !dv || nq != (size_t)(n * lq) * width || ndq != nq || nk != (size_t)(n * lk) * width ||
             nv != nk || ndk != nk || ndv != nk) {
    FAIL("fidkd_blas.attentionGrad: q, k, v lengths do not match n, h, lq, lk, dkv");
  }
  size_t ldq = packed ? 3 * width : width, ldk = ldq;
  if (ndy != (size_t)(n * lq) * width || nprobs != np || (dpos && ndpos != (size_t)(h * lq * lk)))
    FAIL("fidkd_blas.attentionGrad: lengths do not match n, h, lq, lk, dkv");
  fidkd_attention_grad(dy, q, k, v, ldq, ldk, probs, dq, dk, dv, dpos, (int)n, (int)h, (int)lq, (int)lk, (int)dkv);
  return undefined(env);
}

/* rmsNorm(x, w, y, rinv, eps) */
static napi_value js_rms_norm(napi_env env, napi_callback_info info) {
  ARGS(5);
  F32(0, x, nx);
  F32(1, w, d);
  F32(2, y, ny);
  F32(3, rinv, rows);
  DBL(4, eps);
  if (d == 0 || nx != rows * d || ny != nx) FAIL("fidkd_blas.rmsNorm: lengths do not match rows*d");
  fidkd_rms_norm(x, w, y, rinv, rows, d, eps);
  return undefined(env);
}

/* rmsNormGrad(dy, x, w, rinv, dx, dw) */
static napi_value js_rms_norm_grad(napi_env env, napi_callback_info info) {
  ARGS(6);
  F32(0, dy, ndy);
  F32(1, x, nx);
  F32(2, w, d);
  F32(3, rinv, rows);
  F32(4, dx, ndx);
  F32(5, dw, ndw);
  if (d == 0 || nx != rows * d || ndy != nx || ndx != nx || ndw != d) FAIL("fidkd_blas.rmsNormGrad: lengths do not match rows*d");
  fidkd_rms_norm_grad(dy, x, w, rinv, dx, dw, rows, d);
  return undefined(env);
}

/* layerNorm(x, g, b, y, mean, rstd, eps) */
static napi_value js_layer_norm(napi_env env, napi_callback_info info) {
  ARGS(7);
  F32(0, x, nx);
  F32(1, g, d);
  F32(2, b, nb);
  F32(3, y, ny);
  F32(4, mean, rows);
  F32(5, rstd, nr);
  DBL(6, eps);
  if (d == 0 || nb != d || nx != rows * d || ny != nx || nr != rows) FAIL("fidkd_blas.layerNorm: lengths do not match rows*d");
  fidkd_layer_norm(x, g, b, y, mean, rstd, rows, d, eps);
  return undefined(env);
}

/* layerNormGrad(dy, x, g, mean, rstd, dx, dg, db) */
static napi_value js_layer_norm_grad(napi_env env, napi_callback_info info) {
  ARGS(8);
  F32(0, dy, ndy);
  F32(1, x, nx);
  F32(2, g, d);
  F32(3, mean, rows);
  F32(4, rstd, nr);
  F32(5, dx, ndx);
  F32(6, dg, ndg);
  F32(7, db, ndb);
  if (d == 0 || nx != rows * d || ndy != nx || ndx != nx || nr != rows || ndg != d || ndb != d)
    FAIL("fidkd_blas.layerNormGrad: lengths do not match rows*d");
  fidkd_layer_norm_grad(dy, x, g, mean, rstd, dx, dg, db, rows, d);
  return undefined(env);
}

/* gelu(x, y) */
static napi_value js_gelu(napi_env env, napi_callback_info info) {
  ARGS(2);
  F32(0, x, nx);
  F32(1, y, ny);
  if (ny != nx) FAIL("fidkd_blas.gelu: x and y lengths differ");
  fidkd_gelu(x, y, nx);
  return undefined(env);
}

/* geluGrad(dy, x, dx) */
static napi_value js_gelu_grad(napi_env env, napi_callback_info info) {
  ARGS(3);
  F32(0, dy, ndy);
  F32(1, x, nx);
  F32(2, dx, ndx);
  if (ndy != nx || ndx != nx) FAIL("fidkd_blas.geluGrad: dy, x and dx lengths differ");
  fidkd_gelu_grad(dy, x, dx, nx);
  return undefined(env);
}

/* adamw(p, g, m, v, pOut, decay, b1, b1c, b2, b2c, eps, stepSize, bc2Sqrt, gradScale): m, v in place */
static napi_value js_adamw(napi_env env, napi_callback_info info) {
  ARGS(14);
  F32(0, p, np);
  F32(1, g, ng);
  F32(2, m, nm);
  F32(3, v, nv);
  F32(4, po, npo);
  DBL(5, decay);
  DBL(6, b1);
  DBL(7, b1c);
  DBL(8, b2);
  DBL(9, b2c);
  DBL(10, eps);
  DBL(11, step_size);
  DBL(12, bc2_sqrt);
  DBL(13, gscale);
  if (ng != np || nm != np || nv != np || npo != np) FAIL("fidkd_blas.adamw: p, g, m, v and pOut lengths differ");
  fidkd_adamw(p, g, m, v, po, np, (float)decay, (float)b1, (float)b1c, (float)b2, (float)b2c, (float)eps,
              (float)step_size, (float)bc2_sqrt, (float)gscale);
  return undefined(env);
}

/* sumSquares(x) -> number */
static napi_value js_sum_squares(napi_env env, napi_callback_info info) {
  ARGS(1);
  F32(0, x, n);
  napi_value out;
  CHECK(napi_create_double(env, fidkd_sum_squares(x, n), &out));
  return out;
}

/* reduce(op, x, out, outer, r, inner) */
static napi_value js_reduce(napi_env env, napi_callback_info info) {
  ARGS(6);
  INT(0, op);
  F32(1, x, nx);
  F32(2, out, nout);
  INT(3, outer);
  INT(4, r);
  INT(5, inner);
  if (nx != (size_t)(outer * r * inner) || nout != (size_t)(outer * inner))
    FAIL("fidkd_blas.reduce: lengths do not match outer*r*inner");
  fidkd_reduce((int)op, x, out, (size_t)outer, (size_t)r, (size_t)inner);
  return undefined(env);
}

/* transpose(x, out, inShape: Float64Array, perm: Int32Array) */
static napi_value js_transpose(napi_env env, napi_callback_info info) {
  ARGS(4);
  F32(0, x, nx);
  F32(1, out, nout);
  F64(2, shp, rank);
  I32(3, perm, nperm);
  int64_t shape[FIDKD_MAX_RANK];
  if (rank == 0 || nperm != rank || !to_i64(shp, rank, shape)) FAIL("fidkd_blas.transpose: bad rank");
  size_t total = 1;
  int seen[FIDKD_MAX_RANK] = {0};
  for (size_t d = 0; d < rank; d++) {
    total *= (size_t)shape[d];
    if (perm[d] < 0 || (size_t)perm[d] >= rank || seen[perm[d]]++) FAIL("fidkd_blas.transpose: bad permutation");
  }
  if (total != nx || total != nout) FAIL("fidkd_blas.transpose: lengths do not match shape");
  fidkd_transpose(x, out, (int)rank, shape, perm);
  return undefined(env);
}

/* gather(x, indices: Int32Array, out, outer, dim, slice) → -1 or position of the first bad index */
static napi_value js_gather(napi_env env, napi_callback_info info) {
  ARGS(6);
  F32(0, x, nx);
  I32(1, idx, nidx);
  F32(2, out, nout);
  INT(3, outer);
  INT(4, dim);
  INT(5, slice);
  if (nx != (size_t)(outer * dim * slice) || nout != (size_t)outer * nidx * (size_t)slice)
    FAIL("fidkd_blas.gather: lengths do not match shapes");
  int64_t bad = fidkd_gather(x, idx, out, (size_t)outer, (size_t)dim, nidx, (size_t)slice);
  napi_value r;
  CHECK(napi_create_int64(env, bad, &r));
  return r;
}

/* segmentSum(x, ids: Int32Array, out, slice, numSegments) */
static napi_value js_segment_sum(napi_env env, napi_callback_info info) {
  ARGS(5);
  F32(0, x, nx);
  I32(1, ids, nids);
  F32(2, out, nout);
  INT(3, slice);
  INT(4, nseg);
  if (nx != nids * (size_t)slice || nout != (size_t)(nseg * slice))
    FAIL("fidkd_blas.segmentSum: lengths do not match shapes");
  fidkd_unsorted_segment_sum(x, ids, out, nids, (size_t)slice, (size_t)nseg);
  return undefined(env);
}

/* benchSgemm(m, n, k, reps) → Float64Array of seconds per call */
static napi_value js_bench_sgemm(napi_env env, napi_callback_info info) {
  ARGS(4);
  INT(0, m);
  INT(1, n);
  INT(2, k);
  INT(3, reps);
  if (m < 1 || n < 1 || k < 1 || reps < 1) FAIL("fidkd_blas.benchSgemm: sizes and reps must be >= 1");
  napi_value ab, arr;
  void *data;
  CHECK(napi_create_arraybuffer(env, sizeof(double) * (size_t)reps, &data, &ab));
  fidkd_bench_sgemm((int)m, (int)n, (int)k, (int)reps, (double *)data);
  CHECK(napi_create_typedarray(env, napi_float64_array, (size_t)reps, ab, 0, &arr));
  return arr;
}

/* info() → { blasThreads, poolThreads, config, corename } */
static napi_value js_info(napi_env env, napi_callback_info info) {
  napi_value o, v;
  CHECK(napi_create_object(env, &o));
  CHECK(napi_create_int32(env, fidkd_blas_threads(), &v));
  CHECK(napi_set_named_property(env, o, "blasThreads", v));
  CHECK(napi_create_int32(env, fidkd_pool_threads(), &v));
  CHECK(napi_set_named_property(env, o, "poolThreads", v));
  const char *cfg = fidkd_blas_config();
  CHECK(napi_create_string_utf8(env, cfg ? cfg : "", NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, o, "config", v));
  const char *core = fidkd_blas_corename();
  CHECK(napi_create_string_utf8(env, core ? core : "", NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, o, "corename", v));
  return o;
}

/* setThreads(n): OpenBLAS threads and the element-wise pool */
static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  ARGS(1);
  INT(0, n);
  if (n < 1) FAIL("fidkd_blas.setThreads: n must be >= 1");
  fidkd_blas_set_threads((int)n);
  fidkd_pool_set_threads((int)n);
  return undefined(env);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gemm", NULL, js_gemm, NULL, NULL, NULL, napi_default, NULL},
      {"biasAct", NULL, js_bias_act, NULL, NULL, NULL, napi_default, NULL},
      {"unary", NULL, js_unary, NULL, NULL, NULL, napi_default, NULL},
      {"binary", NULL, js_binary, NULL, NULL, NULL, napi_default, NULL},
      {"softmax", NULL, js_softmax, NULL, NULL, NULL, napi_default, NULL},
      {"reduce", NULL, js_reduce, NULL, NULL, NULL, napi_default, NULL},
      {"attention", NULL, js_attention, NULL, NULL, NULL, napi_default, NULL},
      {"rmsNorm", NULL, js_rms_norm, NULL, NULL, NULL, napi_default, NULL},
      {"rmsNormGrad", NULL, js_rms_norm_grad, NULL, NULL, NULL, napi_default, NULL},
      {"layerNorm", NULL, js_layer_norm, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormGrad", NULL, js_layer_norm_grad, NULL, NULL, NULL, napi_default, NULL},
      {"adamw", NULL, js_adamw, NULL, NULL, NULL, napi_default, NULL},
      {"sumSquares", NULL, js_sum_squares, NULL, NULL, NULL, napi_default, NULL},
      {"gelu", NULL, js_gelu, NULL, NULL, NULL, napi_default, NULL},
      {"geluGrad", NULL, js_gelu_grad, NULL, NULL, NULL, napi_default, NULL},
      {"attentionGrad", NULL, js_attention_grad, NULL, NULL, NULL, napi_default, NULL},
      {"transpose", NULL, js_transpose, NULL, NULL, NULL, napi_default, NULL},
      {"gather", NULL, js_gather, NULL, NULL, NULL, napi_default, NULL},
      {"segmentSum", NULL, js_segment_sum, NULL, NULL, NULL, napi_default, NULL},
      {"benchSgemm", NULL, js_bench_sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, js_info, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, js_set_threads, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
