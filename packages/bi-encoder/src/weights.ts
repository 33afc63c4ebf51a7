/**
 * Parameter names and shapes of the bi-encoder, and the mapping between our canonical names (HF BertModel
 * names without prefix, plus FiD's `proj.*` / `norm.*`) and the three checkpoint layouts we read and write.
 */
import { CheckpointError } from '@fidkd/core';
import type { NamedTensor, StateDict } from '@fidkd/core';
import type { BiEncoderConfig } from './config.js';

/**
 * Checkpoint name layouts:
 * - `bert`: HF BertModel names (`embeddings.…`, `encoder.layer.N.…`, `pooler.…`);
 * - `bert-prefixed`: BertForPreTraining-style `bert.`-prefixed names (`cls.*` heads ignored on load);
 * - `fid-retriever`: the official FiD `Retriever` (`model.`-prefixed BERT, `proj.*`, `norm.*` at top level).
 * The projection (`proj.*`, `norm.*`) is always stored unprefixed.
 */
export type CheckpointLayout = 'bert' | 'bert-prefixed' | 'fid-retriever';

export const LAYOUT_PREFIX: Readonly<Record<CheckpointLayout, string>> = {
  bert: '',
  'bert-prefixed': 'bert.',
  'fid-retriever': 'model.',
};

export const LAYOUT_ARCHITECTURES: Readonly<Record<CheckpointLayout, string[]>> = {
  bert: ['BertModel'],
  'bert-prefixed': ['BertForPreTraining'],
  'fid-retriever': ['Retriever'],
};

/** Canonical name → expected shape, in a stable order; the pooler is optional (FiD does not use it). */
export function parameterShapes(c: BiEncoderConfig, withPooler: boolean): Map<string, number[]> {
  const { hiddenSize: h, intermediateSize: i, vocabSize, maxPositionEmbeddings, typeVocabSize } = c.bert;
  const m = new Map<string, number[]>();
  m.set('embeddings.word_embeddings.weight', [vocabSize, h]);
  m.set('embeddings.position_embeddings.weight', [maxPositionEmbeddings, h]);
  m.set('embeddings.token_type_embeddings.weight', [typeVocabSize, h]);
  m.set('embeddings.LayerNorm.weight', [h]);
  m.set('embeddings.LayerNorm.bias', [h]);
  for (let l = 0; l < c.bert.numHiddenLayers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['query', 'key', 'value']) {
      m.set(`${p}attention.self.${n}.weight`, [h, h]);
      m.set(`${p}attention.self.${n}.bias`, [h]);
    }
    m.set(`${p}attention.output.dense.weight`, [h, h]);
    m.set(`${p}attention.output.dense.bias`, [h]);
    m.set(`${p}attention.output.LayerNorm.weight`, [h]);
    m.set(`${p}attention.output.LayerNorm.bias`, [h]);
    m.set(`${p}intermediate.dense.weight`, [i, h]);
    m.set(`${p}intermediate.dense.bias`, [i]);
    m.set(`${p}output.dense.weight`, [h, i]);
    m.set(`${p}output.dense.bias`, [h]);
    m.set(`${p}output.LayerNorm.weight`, [h]);
    m.set(`${p}output.LayerNorm.bias`, [h]);
  }
  if (withPooler) {
    m.set('pooler.dense.weight', [h, h]);
    m.set('pooler.dense.bias', [h]);
  }
  if (c.retriever.projection) {
    const d = c.retriever.indexingDimension;
    m.set('proj.weight', [d, h]);
    m.set('proj.bias', [d]);
    m.set('norm.weight', [d]);
    m.set('norm.bias', [d]);
  }
  return m;
}

const isProjection = (name: string) => name.startsWith('proj.') || name.startsWith('norm.');

/** The stored name of a canonical parameter in a layout. */
export function storedName(name: string, layout: CheckpointLayout): string {
  return isProjection(name) ? name : LAYOUT_PREFIX[layout] + name;
}

/** Guesses the layout from the tensor names; throws naming the file when no BERT embeddings are found. */
export function detectLayout(names: Iterable<string>, file: string): CheckpointLayout {
  const all = [...names];
  for (const layout of ['fid-retriever', 'bert-prefixed', 'bert'] as const) {
    const p = LAYOUT_PREFIX[layout] + 'embeddings.word_embeddings.weight';
    if (all.includes(p)) return layout;
  }
  throw new CheckpointError(file,
    `no BERT word embeddings found (looked for 'embeddings.word_embeddings.weight' with prefixes '', 'bert.', 'model.'); ` +
      `tensors: ${all.slice(0, 8).join(', ')}${all.length > 8 ? ', …' : ''}`,
  );
}

/** Old TF-converted BERT names: `LayerNorm.gamma` / `LayerNorm.beta` for weight / bias. */
function alternatives(stored: string): string[] {
  if (stored.endsWith('LayerNorm.weight')) return [stored, stored.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')];
  if (stored.endsWith('LayerNorm.bias')) return [stored, stored.replace(/LayerNorm\.bias$/, 'LayerNorm.beta')];
  return [stored];
}

/** Whether a checkpoint of this layout carries the (optional) pooler. */
export function hasPooler(tensors: StateDict, layout: CheckpointLayout): boolean {
  return tensors.has(LAYOUT_PREFIX[layout] + 'pooler.dense.weight');
}

/** Whether a checkpoint carries FiD's projection tensors. */
export function hasProjection(tensors: StateDict): boolean {
  return tensors.has('proj.weight');
}

function toFloat32(t: NamedTensor, name: string, file: string): Float32Array {
  const d = t.data;
  if (d instanceof BigInt64Array || t.dtype === 'I64' || t.dtype === 'I32' || t.dtype === 'BOOL') {
    throw new CheckpointError(file, `tensor '${name}' has dtype ${t.dtype}, expected a floating-point tensor`);
  }
  // Float32Array check by tag, never instanceof (typed arrays from another realm fail it).
  if (Object.prototype.toString.call(d) === '[object Float32Array]') return d as Float32Array;
  return Float32Array.from(d as ArrayLike<number>);
}

/**
 * Picks, checks and converts every expected parameter from a loaded state dict. Errors name the file, the
 * tensor and the expected shape. Returns canonical name → float32 data, plus the stored names that were not used
 * (ignored: `cls.*` heads, `position_ids` buffers, anything unknown).
 */
export function extractParameters(
  tensors: StateDict,
  shapes: Map<string, number[]>,
  layout: CheckpointLayout,
  file: string,
): { params: Map<string, Float32Array>; ignored: string[] } {
  const used = new Set<string>();
  const params = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) {
    const candidates = alternatives(storedName(name, layout));
    const found = candidates.find((n) => tensors.has(n));
    if (found === undefined) {
      throw new CheckpointError(file, `missing tensor '${candidates[0]}' (expected shape [${shape.join(', ')}])`);
    }
    const t = tensors.get(found)!;
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new CheckpointError(file, `tensor '${found}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    params.set(name, toFloat32(t, found, file));
    used.add(found);
  }
  const ignored = [...tensors.keys()].filter((n) => !used.has(n));
  return { params, ignored };
}
