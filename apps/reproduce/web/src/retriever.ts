/**
 * The distilled retriever in the page: the run's BERT weights on tfjs (WebGPU where the browser offers an adapter,
 * else WebAssembly), the question tokenized by the JavaScript WordPiece, and a flat inner-product search over the
 * exported passage embeddings — what `fidkd retrieve` does with a FAISS Flat index.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { fetchBytes, fetchJson, type Site } from './data.js';
import { embedBatchRows, encodeTexts, fixWasmFusedMatMul, WordPieceTokenizer, type BiEncoderConfig, type ParameterMap } from './library.js';

export interface Hit {
  row: number;
  score: number;
}

/**
 * The tfjs backend: `?backend=wasm|webgpu|cpu` in the address, else WebGPU when the browser has an adapter, else
 * wasm. Returns the one in use.
 */
export async function chooseBackend(): Promise<string> {
  setWasmPaths(new URL('vendor/tfjs/', document.baseURI).href);
  fixWasmFusedMatMul(); // tfjs-backend-wasm 4.22 adds the bias of x·Wᵀ + b wrongly (see @fidkd/core)
  const requested = new URLSearchParams(location.search).get('backend');
  const order = requested ? [requested] : ['webgpu', 'wasm'];
  for (const name of order) {
    if (name === 'webgpu') {
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      if (!gpu || !(await gpu.requestAdapter().catch(() => null))) continue;
    }
    if (await tf.setBackend(name).catch(() => false)) {
      await tf.ready();
      return tf.getBackend();
    }
  }
  throw new Error(`no tfjs backend could start (tried ${order.join(', ')})`);
}

/** Reads a safetensors file of float32 tensors into tfjs tensors by name. */
function readSafetensors(bytes: ArrayBuffer): Map<string, tf.Tensor> {
  const view = new DataView(bytes);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes, 8, headerLength))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + headerLength;
  const out = new Map<string, tf.Tensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new Error(`retriever weights: ${name} is ${t.dtype}, expected F32`);
    const [begin, end] = t.data_offsets;
    out.set(name, tf.tensor(new Float32Array(bytes.slice(base + begin, base + end)), t.shape, 'float32'));
  }
  return out;
}

/** IEEE half-precision bits → float32 (the export's float16 embeddings). */
function halfToFloat(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    out[i] = exp === 0 ? sign * mant * 2 ** -24 : exp === 31 ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}

export class PageRetriever {
  private constructor(
    readonly backend: string,
    private readonly site: Site,
    private readonly tokenizer: WordPieceTokenizer,
    private readonly config: BiEncoderConfig,
    private readonly params: ParameterMap,
    private readonly embeddings: Float32Array,
    readonly dimension: number,
  ) {}

  static async load(site: Site): Promise<PageRetriever> {
    const backend = await chooseBackend();
    const r = site.manifest.retriever;
    const e = site.manifest.embeddings;
    const [tokenizerJson, config, weights, emb] = await Promise.all([
      fetchJson<object>(r.tokenizer_file), fetchJson<BiEncoderConfig>(r.config_file), fetchBytes(r.weights_file), fetchBytes(e.file),
    ]);
    const embeddings = e.dtype === 'float16' ? halfToFloat(new Uint16Array(emb)) : new Float32Array(emb);
    if (embeddings.length !== e.count * e.dimension) throw new Error(`data/${e.file}: ${embeddings.length} values, expected ${e.count} × ${e.dimension}`);
    return new PageRetriever(backend, site, WordPieceTokenizer.fromJson(tokenizerJson, r.tokenizer_file), config, readSafetensors(weights), embeddings, e.dimension);
  }

  /** The question's input ids ([CLS] … [SEP], as the retrieve stage builds them) and their tokens. */
  async tokenize(question: string): Promise<{ ids: number[]; tokens: string[] }> {
    const batch = await encodeTexts(this.tokenizer, [question], { maxLength: this.site.manifest.retriever.question_maxlength, kind: 'bert' });
    const ids = Array.from(batch.ids.subarray(0, batch.mask.reduce((a, m) => a + m, 0)));
    return { ids, tokens: ids.map((id) => this.tokenizer.idToToken(id) ?? `#${id}`) };
  }

  /** E(q): the question's embedding. */
  async embed(question: string): Promise<Float32Array> {
    const batch = await encodeTexts(this.tokenizer, [question], { maxLength: this.site.manifest.retriever.question_maxlength, kind: 'bert' });
    const t = embedBatchRows(this.params, this.config, batch, 'question');
    try {
      return (await t.data()) as Float32Array;
    } finally {
      t.dispose();
    }
  }

  /**
   * The k passages of highest inner product with `q`, best first. Exact ties (passages with the same text) come
   * out as FAISS's flat search returns them: the first ones met are kept, listed last row first.
   */
  search(q: Float32Array, k: number): Hit[] {
    const d = this.dimension;
    const n = this.embeddings.length / d;
    const best: Hit[] = [];
    for (let row = 0; row < n; row++) {
      let score = 0;
      const base = row * d;
      for (let j = 0; j < d; j++) score += q[j]! * this.embeddings[base + j]!;
      if (best.length === k && score <= best[k - 1]!.score) continue;
      let i = best.length;
      while (i > 0 && best[i - 1]!.score <= score) i--;
      best.splice(i, 0, { row, score });
      if (best.length > k) best.pop();
    }
    return best;
  }
}
