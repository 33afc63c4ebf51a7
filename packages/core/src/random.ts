// Seeded pseudo-random numbers shared by every package. Math.random is never used where results must repeat:
// synthetic worlds, initial weights, test vectors and batch orders must be the same for a seed on every
// platform and Node version, so the streams below are part of the project's determinism contract — changing
// any of them changes generated files and checkpoints.

/** A source of uniform floats in [0, 1). */
export type UniformSource = () => number;

/**
 * How {@link SeededRandom} turns a seed into mulberry32's initial state.
 * - `'splitmix32'`: xor with the golden-ratio constant 0x9e3779b9, then the MurmurHash3 32-bit finaliser, so
 *   that nearby seeds (0, 1, 2 …) start far apart. @fidkd/data's synthetic world uses it.
 * - `'none'`: the seed (as uint32) is the state, so the stream equals {@link mulberry32}`(seed)`.
 */
export type SeedMixing = 'splitmix32' | 'none';

/** Options of {@link SeededRandom}. */
export interface SeededRandomOptions {
  /** Default `'splitmix32'`. */
  seedMixing?: SeedMixing;
}

/**
 * mulberry32 (Tommy Ettinger): a small, fast 32-bit generator with a 2³² period, plenty for initial weights and
 * synthetic data. Returns uniform floats in [0, 1) with 32 random bits each; the seed is taken as uint32.
 */
export function mulberry32(seed: number): UniformSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The `'splitmix32'` {@link SeedMixing}: a uint32 state that differs widely for nearby seeds. */
export function splitmix32Seed(seed: number): number {
  let z = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Standard normal draws N(0, 1) from `uniform` by Box–Muller: each pair of uniforms gives two values, the cosine
 * one first; the sine one is kept for the next call. A uniform of exactly 0 (log 0) is drawn again.
 */
export function gaussian(uniform: UniformSource): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * `size` values from N(0, std²) by Box–Muller (HF-style weight initialisation). Each pair of uniforms fills two
 * consecutive values; for an odd `size` the last pair's second value is dropped, so every call starts afresh
 * (unlike {@link gaussian}, which carries it over). A uniform below 1e-12 is clamped to 1e-12, not redrawn, so
 * the number of uniforms consumed is always 2·⌈size/2⌉.
 */
export function normalArray(size: number, std: number, uniform: UniformSource): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i += 2) {
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const r = std * Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < size) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * A seeded generator over {@link mulberry32} with the helpers callers need: uniform floats, integers, coin flips,
 * picks, Fisher–Yates shuffles and normal draws. The same seed and options give the same stream everywhere.
 */
export class SeededRandom {
  private readonly uniform: UniformSource;
  private normals: (() => number) | undefined;

  constructor(seed: number, options: SeededRandomOptions = {}) {
    const mixing = options.seedMixing ?? 'splitmix32';
    this.uniform = mulberry32(mixing === 'splitmix32' ? splitmix32Seed(seed) : seed);
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.uniform();
  }

  /** Uniform integer in [0, n) (one uniform draw). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Uniform integer in [lo, hi], both ends included. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.uniform() < p;
  }

  /** A uniformly chosen element; throws on an empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('SeededRandom.pick: empty list');
    return items[this.int(items.length)] as T;
  }

  /** Fisher–Yates shuffle in place (from the end: j = int(i + 1)); returns `items`. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /**
   * A standard normal draw (the {@link gaussian} stream over this generator's uniforms; interleaving with
   * `next()` etc. is allowed and deterministic).
   */
  normal(): number {
    this.normals ??= gaussian(this.uniform);
    return this.normals();
  }
}
