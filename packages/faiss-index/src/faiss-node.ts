import { createRequire } from 'node:module';
import { PassageIndexError } from './errors.js';

/** faiss-node's `Index` class (the subset of its API used here). @internal */
export interface FaissIndex {
  ntotal(): number;
  getDimension(): number;
  isTrained(): boolean;
  add(x: number[]): void;
  train(x: number[]): void;
  search(x: number[], k: number): { distances: number[]; labels: number[] };
  write(fname: string): void;
  toBuffer(): Buffer;
  mergeFrom(other: FaissIndex): void;
}

/** faiss-node's `Index` constructor functions used here. @internal */
export interface FaissIndexStatics {
  read(fname: string): FaissIndex;
  fromBuffer(src: Buffer): FaissIndex;
  fromFactory(dims: number, descriptor: string, metric?: number): FaissIndex;
}

/** faiss MetricType values (faiss/MetricType.h). */
export const METRIC_INNER_PRODUCT = 0;
export const METRIC_L2 = 1;

let cached: FaissIndexStatics | undefined;

/** Loads the faiss-node addon once (lazily, so importing the package never loads native code). */
export function faissIndexClass(): FaissIndexStatics {
  if (cached) return cached;
  try {
    const mod = createRequire(import.meta.url)('faiss-node') as { Index: FaissIndexStatics };
    cached = mod.Index;
    return cached;
  } catch (err) {
    throw new PassageIndexError(
      'faiss-node does not load. Either let its install script fetch the prebuilt binary (with network access: ' +
        '`npm rebuild faiss-node --ignore-scripts=false`), or build it from source against the system libfaiss ' +
        '(Debian/Ubuntu: `apt-get install libfaiss-dev libopenblas-dev g++ make python3`, then `npx fidkd-build-faiss-node`). ' +
        `Cause: ${String(err)}`,
    );
  }
}
