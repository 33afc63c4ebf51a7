/*
 * Maximum inner product search through an L2 index, as DPR's DenseHNSWFlatIndexer does it (Bachrach et al. 2014):
 * every passage vector x gets one extra coordinate sqrt(φ − ‖x‖²) with φ ≥ max ‖x‖², queries get a 0. Then
 * ‖q' − x'‖² = ‖q‖² + φ − 2 q·x, so the L2 order is the inner-product order and q·x = (‖q‖² + φ − dist) / 2.
 * HNSW builds better graphs for L2 than for inner product, which is why DPR uses it.
 */

/** Largest squared norm among the rows of a row-major [n, d] matrix. */
export function maxSquaredNorm(vectors: Float32Array, dimension: number): number {
  let max = 0;
  for (let off = 0; off < vectors.length; off += dimension) {
    let s = 0;
    for (let j = 0; j < dimension; j++) s += vectors[off + j]! * vectors[off + j]!;
    if (s > max) max = s;
  }
  return max;
}

/** Rows [from, to) of `vectors`, each followed by `extra(its squared norm)`, as a plain array for faiss-node. */
function appendCoordinate(vectors: Float32Array, dimension: number, from: number, to: number, extra: (squaredNorm: number) => number): number[] {
  const out = new Array<number>((to - from) * (dimension + 1));
  let o = 0;
  for (let r = from; r < to; r++) {
    const off = r * dimension;
    let s = 0;
    for (let j = 0; j < dimension; j++) {
      const v = vectors[off + j]!;
      out[o++] = v;
      s += v * v;
    }
    out[o++] = extra(s);
  }
  return out;
}

/** Rows [from, to) of `vectors` with the extra coordinate sqrt(φ − ‖x‖²) appended, as a plain array for faiss-node. */
export function augmentRows(vectors: Float32Array, dimension: number, from: number, to: number, phi: number): number[] {
  return appendCoordinate(vectors, dimension, from, to, (s) => Math.sqrt(Math.max(0, phi - s)));
}

/** Query rows [from, to) with a 0 appended (and their squared norms, to recover inner products). */
export function augmentQueries(queries: Float32Array, dimension: number, from: number, to: number): { rows: number[]; squaredNorms: number[] } {
  const squaredNorms: number[] = [];
  const rows = appendCoordinate(queries, dimension, from, to, (s) => {
    squaredNorms.push(s);
    return 0;
  });
  return { rows, squaredNorms };
}
