// Per-operator time of one ONNX Runtime embedding run (ORT's own profiler), the counterpart of profile.js's
// tf.profile table for `--model embed --backend ort`: the bert-base batch of the embed-ort suite (8 x 200 tokens),
// exported by @fidkd/bi-encoder (or --onnx FILE: another graph with int64 input_ids / attention_mask, such as
// the suite's torch.onnx reference), 2 threads, optimisation 'all', no spinning.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { biEncoderWeights, loadOnnxRuntime, retrieverOnnxBytes, type OrtModule } from '@fidkd/bi-encoder';
import { EMBED_SIZES, embedBatch, embedModel, int64Feeds, ortSessionOptions } from './suites/embed-ort.js';

interface ProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

interface Session {
  run(feeds: Record<string, unknown>): Promise<unknown>;
  endProfiling(): void;
  release(): Promise<void>;
}

/** Prints the table: step time (unprofiled run), then time per ONNX operator of one profiled run. */
export async function profileOrtEmbed(onnxFile: string | null, top: number): Promise<void> {
  const ort: OrtModule = await loadOnnxRuntime();
  const size = EMBED_SIZES['bert-base'];
  const batch = embedBatch(size);
  const dir = mkdtempSync(join(tmpdir(), 'fidkd-ort-profile-'));
  try {
    let graph: Uint8Array | string;
    let int64 = true;
    if (onnxFile) graph = onnxFile;
    else {
      const model = embedModel(size);
      graph = retrieverOnnxBytes(await biEncoderWeights(model));
      model.dispose();
      int64 = false;
    }
    const create = ort.InferenceSession.create as unknown as (g: Uint8Array | string, o: Record<string, unknown>) => Promise<Session>;
    const session = await create(graph, { ...ortSessionOptions(), enableProfiling: true, profileFilePrefix: join(dir, 'ort') });
    const dims = [batch.count, batch.length];
    const feeds = int64
      ? int64Feeds(ort, batch)
      : { input_ids: new ort.Tensor('int32', batch.ids, dims), attention_mask: new ort.Tensor('int32', batch.mask, dims) };
    await session.run(feeds); // warm-ups (their events are dropped below: only the last run's are counted)
    await session.run(feeds);
    const t0 = performance.now();
    await session.run(feeds);
    const stepMs = performance.now() - t0;
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error(`ONNX Runtime wrote no profile into ${dir}`);
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
    // node events of the last run: each run's kernels appear in order; keep the last third (3 runs)
    const kernels = events.filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time'));
    const perRun = kernels.length / 3;
    if (!Number.isInteger(perRun)) throw new Error(`profile of ${kernels.length} kernel events is not 3 runs of the same graph`);
    const last = kernels.slice(2 * perRun);
    const by = new Map<string, { ms: number; calls: number }>();
    for (const e of last) {
      const op = e.args?.op_name ?? 'unknown';
      const s = by.get(op) ?? { ms: 0, calls: 0 };
      s.ms += (e.dur ?? 0) / 1000;
      s.calls++;
      by.set(op, s);
    }
    const total = [...by.values()].reduce((a, s) => a + s.ms, 0);
    console.log(`onnxruntime-node, ${onnxFile ?? 'fidkd export'}, bert-base 8 x 200 tokens: step ${stepMs.toFixed(0)} ms, kernel time ${total.toFixed(0)} ms in ${last.length} kernel calls`);
    console.log(`${'operator'.padEnd(22)} ${'ms'.padStart(9)} ${'share'.padStart(6)} calls`);
    for (const [name, s] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
      console.log(`${name.padEnd(22)} ${s.ms.toFixed(1).padStart(9)} ${((100 * s.ms) / total).toFixed(1).padStart(5)}% ${s.calls}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
