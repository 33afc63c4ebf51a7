import { SeededRandom, gaussian, mulberry32, normalArray, splitmix32Seed } from './index.js';

const draws = (next: () => number, n: number): number[] => Array.from({ length: n }, () => next());
const asUint32 = (xs: number[]): number[] => xs.map((x) => x * 2 ** 32);

// The streams are pinned: synthetic worlds, initial weights and test vectors are generated from them, and a
// change would silently change every generated file. Values from the implementations the packages used before.
test('mulberry32 reproduces the pinned stream (mulberry32(0) starts 0.2664292…)', () => {
  expect(asUint32(draws(mulberry32(0), 4))).toEqual([1144304738, 1416247, 958946056, 627933444]);
  expect(asUint32(draws(mulberry32(42), 4))).toEqual([2581720956, 1925393290, 3661312704, 2876485805]);
  // The seed is taken as uint32.
  expect(draws(mulberry32(-1), 5)).toEqual(draws(mulberry32(2 ** 32 - 1), 5));
  expect(draws(mulberry32(2 ** 32 + 7), 5)).toEqual(draws(mulberry32(7), 5));
});

test('splitmix32 seed mixing is pinned and spreads nearby seeds', () => {
  expect([0, 1, 42].map(splitmix32Seed)).toEqual([2462723854, 920564995, 3856264912]);
  expect(asUint32(draws(() => new SeededRandom(1).next(), 1))).toEqual([2243319414]);
  const r = new SeededRandom(0);
  expect(asUint32(draws(() => r.next(), 4))).toEqual([2673918951, 1525398398, 1851933717, 1087923286]);
  // Fractional seeds are truncated.
  expect(draws(() => new SeededRandom(3.7).next(), 1)).toEqual(draws(() => new SeededRandom(3).next(), 1));
});

test("seedMixing 'none' equals mulberry32(seed); the default mixes", () => {
  const raw = new SeededRandom(5, { seedMixing: 'none' });
  expect(draws(() => raw.next(), 20)).toEqual(draws(mulberry32(5), 20));
  const mixed = new SeededRandom(5);
  expect(draws(() => mixed.next(), 20)).toEqual(draws(mulberry32(splitmix32Seed(5)), 20));
  expect(new SeededRandom(5).next()).not.toBe(mulberry32(5)());
});

test('uniforms lie in [0, 1) with mean ≈ 1/2; same seed, same stream', () => {
  const xs = draws(mulberry32(9), 20000);
  expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...xs)).toBeLessThan(1);
  expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(0.5, 1);
  expect(draws(mulberry32(9), 100)).toEqual(xs.slice(0, 100));
});

test('int, range, chance and pick draw one uniform each, within bounds', () => {
  const a = new SeededRandom(11);
  const b = new SeededRandom(11);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const x = a.range(-2, 3);
    expect(x).toBe(-2 + Math.floor(b.next() * 6));
    seen.add(x);
  }
  expect([...seen].sort((x, y) => x - y)).toEqual([-2, -1, 0, 1, 2, 3]); // both ends reached
  expect(a.int(7)).toBe(Math.floor(b.next() * 7));
  expect(a.chance(0.3)).toBe(b.next() < 0.3);
  expect(a.pick(['x', 'y', 'z'])).toBe(['x', 'y', 'z'][Math.floor(b.next() * 3)]);
  expect(() => a.pick([])).toThrow(/empty list/);
});

test('shuffle is an in-place Fisher–Yates permutation, deterministic per seed', () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  const shuffled = new SeededRandom(4).shuffle([...items]);
  expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
  expect(shuffled).not.toEqual(items);
  expect(new SeededRandom(4).shuffle([...items])).toEqual(shuffled);
  // Reference Fisher–Yates over the same uniforms.
  const u = mulberry32(splitmix32Seed(4));
  const ref = [...items];
  for (let i = ref.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [ref[i], ref[j]] = [ref[j]!, ref[i]!];
  }
  expect(shuffled).toEqual(ref);
  const same: number[] = [];
  expect(new SeededRandom(1).shuffle(same)).toBe(same);
});

test('gaussian: Box–Muller pairs (cosine first, sine kept for the next call), N(0, 1) moments', () => {
  const u = mulberry32(3);
  const [u1, v1] = [u(), u()];
  const g = gaussian(mulberry32(3));
  const r = Math.sqrt(-2 * Math.log(u1));
  expect(g()).toBe(r * Math.cos(2 * Math.PI * v1));
  expect(g()).toBe(r * Math.sin(2 * Math.PI * v1));
  const xs = draws(gaussian(mulberry32(8)), 40000);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  expect(Math.abs(mean)).toBeLessThan(0.03);
  expect(Math.abs(variance - 1)).toBeLessThan(0.05);
});

test('gaussian redraws a uniform of exactly 0', () => {
  const values = [0, 0, 0.25, 0.5];
  const g = gaussian(() => values.shift()!);
  expect(g()).toBeCloseTo(Math.sqrt(-2 * Math.log(0.25)) * Math.cos(Math.PI), 12);
});

test('SeededRandom.normal is the gaussian stream over its uniforms, interleaving with next()', () => {
  const a = new SeededRandom(6, { seedMixing: 'none' });
  const u = mulberry32(6);
  const g = gaussian(u);
  expect(a.normal()).toBe(g());
  expect(a.next()).toBe(u()); // the spare sine value does not consume a uniform
  expect(a.normal()).toBe(g());
  expect(a.normal()).toBe(g());
});

test('normalArray: std-scaled pairs, odd sizes drop the last sine, consumes 2·ceil(size/2) uniforms', () => {
  const even = normalArray(6, 0.5, mulberry32(2));
  const g = gaussian(mulberry32(2));
  for (const x of even) expect(x).toBeCloseTo(0.5 * g(), 6);
  const u = mulberry32(2);
  const odd = normalArray(5, 1, u);
  expect(odd.length).toBe(5);
  const rest = mulberry32(2);
  draws(rest, 6);
  expect(u()).toBe(rest());
  expect(Array.from(odd.subarray(0, 4))).toEqual(Array.from(normalArray(4, 1, mulberry32(2))));
  // A zero uniform is clamped to 1e-12 (finite), never redrawn.
  const z = normalArray(2, 1, () => 0);
  expect(z[0]).toBeCloseTo(Math.sqrt(-2 * Math.log(1e-12)), 5);
  const big = normalArray(40001, 0.02, mulberry32(1));
  const sd = Math.sqrt(big.reduce((a, b) => a + b * b, 0) / big.length);
  expect(Math.abs(sd - 0.02)).toBeLessThan(0.001);
});
