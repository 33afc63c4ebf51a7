// The embed stage on both engines: ONNX Runtime (embed.backend "ort", the default "auto" where onnxruntime-node
// is installed, as scripts/setup.mjs does) and tfjs give the same embeddings within 1e-5, and a shard embedded
// again (a resumed run) is byte-identical. Needs onnxruntime-node: without it these tests fail naming it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BiEncoder, loadOnnxRuntime } from '@fidkd/bi-encoder';
import { readEmbeddingShard } from '@fidkd/data';
import { trainWordPiece } from '@fidkd/tokenization';
import type { StageContext } from '../runner/stage-runner.js';
import type { EmbedStageConfig } from '../pipeline.js';
import { validatePipelineConfig } from '../config.js';
import { embedStage } from './embed.js';
import { tinyPipeline } from '../__tests__/tiny-config.js';

let dir: string;
const texts = Array.from({ length: 23 }, (_, i) => `entity ${i} was born in city ${i % 5} and died in town ${(i * 7) % 11}${' again'.repeat(i % 4)}`);

beforeAll(async () => {
  await tf.setBackend('cpu');
  await loadOnnxRuntime(); // "onnxruntime-node is not installed … npm install …" when missing: the tests fail
  dir = mkdtempSync(join(tmpdir(), 'fidkd-embed-backend-'));
  writeFileSync(join(dir, 'passages.tsv'), `id\ttext\ttitle\n${texts.map((t, i) => `p${i}\t${t}\tEntity ${i}`).join('\n')}\n`);
  const tok = trainWordPiece(texts, { vocabSize: 120 });
  tok.save(join(dir, 'tokenizer.json'));
  const model = BiEncoder.create({ bert: { vocabSize: tok.vocabSize, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 64 } }, { seed: 3 });
  model.save(join(dir, 'retriever'));
  model.dispose();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function embed(backend: EmbedStageConfig['backend'], name: string, logs: string[] = []): Promise<{ ids: string[]; embeddings: Float32Array; metrics: Record<string, number> }> {
  const outDir = join(dir, name);
  mkdirSync(outDir, { recursive: true });
  const ctx: StageContext<EmbedStageConfig> = {
    ref: { stage: 'embed', iteration: 0, key: `iter-0/${name}` },
    config: { num_shards: 2, shard_id: 1, batch_size: 4, passage_maxlength: 24, ...(backend ? { backend } : {}) },
    inputs: { retriever: join(dir, 'retriever'), passages: join(dir, 'passages.tsv'), tokenizer: join(dir, 'tokenizer.json') },
    outDir, runDir: dir, checkpointDir: join(dir, `${name}.ckpt`),
    step: () => undefined, onProgress: () => undefined, checkpointSaved: () => undefined, log: (m) => void logs.push(m),
  };
  const metrics = await embedStage(ctx);
  const shard = readEmbeddingShard(join(outDir, 'embeddings.safetensors'));
  return { ids: shard.ids, embeddings: shard.embeddings, metrics };
}

test('embed.backend ort and tfjs: same passages, embeddings within 1e-5; "auto" takes ort when installed', async () => {
  const ort = await embed('ort', 'ort');
  const tfjs = await embed('tfjs', 'tfjs');
  const logs: string[] = [];
  const auto = await embed(undefined, 'auto', logs);
  expect(ort.ids).toEqual(tfjs.ids);
  expect(ort.ids.length).toBe(12); // shard 1 of 2 of 23 passages (rows 11..22)
  let worst = 0;
  for (let i = 0; i < ort.embeddings.length; i++) worst = Math.max(worst, Math.abs(ort.embeddings[i]! - tfjs.embeddings[i]!));
  expect(worst).toBeLessThan(1e-5);
  expect(ort.metrics).toMatchObject({ passages: 12, dimension: 16, onnxruntime: 1 });
  expect(tfjs.metrics).toMatchObject({ onnxruntime: 0 });
  expect(auto.metrics).toMatchObject({ onnxruntime: 1 });
  expect(logs.join('\n')).toMatch(/ONNX Runtime .*embed\.backend "auto"/);
});

test('a shard embedded again with ONNX Runtime (a resumed run) is byte-identical', async () => {
  await embed('ort', 'again-1');
  await embed('ort', 'again-2');
  const a = readFileSync(join(dir, 'again-1', 'embeddings.safetensors'));
  const b = readFileSync(join(dir, 'again-2', 'embeddings.safetensors'));
  expect(a.equals(b)).toBe(true);
});

test('embed.backend is validated with the other settings', () => {
  const c = tinyPipeline({ passages: 'p.tsv', train: 't.json', dev: 'd.json', test: 'x.json', tokenizer: 'tok.json' } as never);
  for (const ok of ['auto', 'ort', 'tfjs'] as const) expect(() => validatePipelineConfig({ ...c, embed: { ...c.embed, backend: ok } }, 'config', { skipData: true })).not.toThrow();
  expect(() => validatePipelineConfig({ ...c, embed: { ...c.embed, backend: 'onnx' as never } }, 'config', { skipData: true }))
    .toThrow(/embed\.backend must be "auto" or "ort" or "tfjs" \(got "onnx"\)/);
});
