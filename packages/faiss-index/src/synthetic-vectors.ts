/** Options of {@link clusteredVectors}. */
export interface ClusteredVectorsOptions {
  /** Number of vectors. */
  count: number;
  dimension: number;
  /** Number of centres the vectors are drawn around (default 1000). */
  clusters?: number;
  /** Standard deviation of the offset from the centre, per coordinate, relative to the centres' (default 0.5). */
  spread?: number;
  /** Seed of the generator (default 1). */
  seed?: number;
  /**
   * Seed of the centres (default 1). Vectors generated with the same `centresSeed` share centres, so queries can be
   * drawn around the same clusters as the collection with another `seed`.
   */
  centresSeed?: number;
}

/** mulberry32: a small, fast, seedable 32-bit generator (deterministic across platforms). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * Vectors drawn around a fixed set of Gaussian centres (row-major [count, dimension]): structured like real
 * embeddings, unlike uniform random vectors, on which no graph or IVF index can do well and recall figures mean
 * little. Deterministic per seed.
 */
export function clusteredVectors(options: ClusteredVectorsOptions): Float32Array {
  const { count, dimension } = options;
  const clusters = options.clusters ?? 1000;
  const spread = options.spread ?? 0.5;
  const centreNoise = gaussian(mulberry32(options.centresSeed ?? 1));
  const centres = new Float32Array(clusters * dimension);
  for (let i = 0; i < centres.length; i++) centres[i] = centreNoise();
  const rand = mulberry32((options.seed ?? 1) ^ 0x9e3779b9);
  const noise = gaussian(rand);
  const out = new Float32Array(count * dimension);
  for (let i = 0; i < count; i++) {
    const c = Math.floor(rand() * clusters) * dimension;
    const row = i * dimension;
    for (let j = 0; j < dimension; j++) out[row + j] = centres[c + j]! + spread * noise();
  }
  return out;
}
