// The addon's own surface: info, the sgemm timing entry point and its argument checks.
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { benchSgemm, blasInfo, isBlasAvailable } from './index.js';
import type { BlasAddon } from './addon.js';

describe('addon', () => {
  it('loads and reports OpenBLAS and its threads', () => {
    expect(isBlasAvailable()).toBe(true);
    const info = blasInfo();
    expect(info.library).toMatch(/OpenBLAS/);
    expect(info.blasThreads).toBeGreaterThanOrEqual(1);
    expect(info.poolThreads).toBeGreaterThanOrEqual(1);
  });

  it('times sgemm in C', () => {
    const t = benchSgemm(64, 48, 32, 3);
    expect(t).toHaveLength(3);
    for (const s of t) expect(s).toBeGreaterThan(0);
    expect(() => benchSgemm(0, 1, 1, 1)).toThrow(/>= 1/);
  });

  it('rejects arrays that do not match the declared shapes instead of touching memory', () => {
    const addon = createRequire(import.meta.url)('../build/Release/fidkd_blas.node') as BlasAddon;
    const a = new Float32Array(6);
    const off = new Float64Array(1);
    expect(() => addon.gemm(a, a, new Float32Array(3), off, off, 2, 2, 3, 0, 0)).toThrow(/output length/);
    expect(() => addon.gemm(a, a, new Float32Array(4), Float64Array.of(5), off, 2, 2, 3, 0, 0)).toThrow(/offset out of range/);
    expect(() => addon.unary(0, a, new Float32Array(5), 0)).toThrow(/lengths differ/);
    expect(() => addon.reduce(0, a, new Float32Array(2), 2, 4, 1)).toThrow(/outer\*r\*inner/);
    expect(() => addon.transpose(a, new Float32Array(6), Float64Array.of(2, 3), Int32Array.of(0, 0))).toThrow(/permutation/);
    expect(() => addon.binary(0, a, new Float32Array(2), new Float32Array(6), Float64Array.of(6), Float64Array.of(1), Float64Array.of(1))).toThrow(/strides exceed/);
    expect(() => addon.unary(0, new Float64Array(6) as unknown as Float32Array, a, 0)).toThrow(/Float32Array/);
  });
});
