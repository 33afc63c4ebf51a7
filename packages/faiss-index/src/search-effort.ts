import { PassageIndexError } from './errors.js';
import { writeKnob, type FaissLayout } from './faiss-format.js';
import type { SearchParameters } from './manifest.js';

/** Package default HNSW efSearch: measured recall@10 ≥ 0.95 against Flat on 100k clustered 128-d vectors (README). */
export const DEFAULT_EF_SEARCH = 128;
/** Package default IVF nprobe (capped at the index's nlist). */
export const DEFAULT_NPROBE = 16;

/** The search-effort values stored in a serialized index (the first occurrence of each kind). */
export function readSearchParameters(layout: FaissLayout): SearchParameters {
  const out: SearchParameters = {};
  for (const k of layout.knobs) if (out[k.kind] === undefined) out[k.kind] = k.value;
  return out;
}

/** Smallest nlist among the IVF parts of the index (nprobe's upper bound), or undefined. */
export function smallestNlist(layout: FaissLayout): number | undefined {
  let min: number | undefined;
  const visit = (n: FaissLayout['root']): void => {
    if (n.nlist !== undefined) min = min === undefined ? n.nlist : Math.min(min, n.nlist);
    n.children.forEach(visit);
  };
  visit(layout.root);
  return min;
}

function checkValue(kind: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new PassageIndexError(`${kind} must be an integer in [1, ${max}], got ${String(value)}`);
  }
}

/**
 * Writes search-effort values into a serialized index (in place), at the fields located by the format walker.
 * Every HNSW part gets efSearch / efConstruction, every IVF part nprobe. Asking for a value the index has no
 * field for is an error naming the factory.
 * @internal
 */
export function writeSearchParameters(buffer: Buffer, layout: FaissLayout, params: SearchParameters, factory: string): void {
  const nlist = smallestNlist(layout);
  for (const kind of ['efSearch', 'efConstruction', 'nprobe'] as const) {
    const value = params[kind];
    if (value === undefined) continue;
    const knobs = layout.knobs.filter((k) => k.kind === kind);
    if (knobs.length === 0) {
      const part = kind === 'nprobe' ? 'IVF' : 'HNSW';
      const hint = layout.complete ? '' : ' (or it sits in a part of the index this package cannot locate)';
      throw new PassageIndexError(`${kind} does not apply to factory '${factory}': it has no ${part} part${hint}`);
    }
    checkValue(kind, value, kind === 'nprobe' ? (nlist ?? 1) : 2 ** 31 - 1);
    for (const k of knobs) writeKnob(buffer, k, value);
  }
}
