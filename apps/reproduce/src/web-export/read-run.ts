/**
 * What `fidkd export-web` reads of a run directory, found through the stage manifests (each stage's inputs,
 * outputs, config and metrics) rather than a fixed layout: the retrieve stage of iteration t names the retriever,
 * the passages, the tokenizer and the dev file Dᵗ it used; its index stage names the embedding shards; evaluate
 * manifests hold the metrics (every key they have, so later metrics show up without changes here).
 */
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import {
  MANIFEST_FILE, OUTPUTS, PREPARE_KEYS, readManifest, stageDirKey, type Branch, type StageManifest, type StageName,
} from '@fidkd/orchestrator';
import { BASELINE_LABELS, type BaselineKey } from '../demo/report.js';
import { UserError } from '../ui/errors.js';
import type { MetricRow } from './site-format.js';

/** A finished stage of the run: its directory and manifest. */
export interface DoneStage {
  dir: string;
  manifest: StageManifest;
}

/** The run as the export sees it. */
export class RunReader {
  constructor(readonly dir: string) {
    if (!existsSync(dir)) throw new UserError(`run directory ${dir} does not exist`);
  }

  /** A stage of iteration t (or of a baseline branch), when it has finished. */
  stage(iteration: Branch, name: StageName, shard?: { id: number; of: number }): DoneStage | undefined {
    const dir = join(this.dir, stageDirKey(iteration, name, shard));
    const manifest = readManifest(dir);
    return manifest ? { dir, manifest } : undefined;
  }

  /** Like {@link stage}, but a missing stage is an error saying what to run. */
  need(iteration: number, name: StageName): DoneStage {
    const s = this.stage(iteration, name);
    if (!s) {
      throw new UserError(`${join(this.dir, stageDirKey(iteration, name))} has not finished (no ${MANIFEST_FILE})`,
        `finish the run first (rerun the same \`fidkd demo\` / \`fidkd reproduce\` command, or \`fidkd ${name} --iteration ${iteration} --run-dir ${this.dir}\`)`);
    }
    return s;
  }

  /** Absolute path of a manifest input (manifests keep paths inside the run relative to it). */
  input(s: DoneStage, name: string): string {
    const p = s.manifest.inputs[name]?.path;
    if (p === undefined) {
      // a retrieval sharded over questions (retrieve.num_shards) ends in a merge whose inputs are its shards' stage
      // directories: the shards' inputs (retriever, passages, tokenizer, question files) are the retrieval's
      const shard = s.manifest.inputs['shard-0']?.path;
      const dir = shard === undefined ? undefined : isAbsolute(shard) ? shard : join(this.dir, shard);
      const manifest = dir === undefined ? undefined : readManifest(dir);
      if (dir !== undefined && manifest) return this.input({ dir, manifest }, name);
      throw new UserError(`${join(s.dir, MANIFEST_FILE)} has no input "${name}"`);
    }
    return isAbsolute(p) ? p : join(this.dir, p);
  }

  /** Absolute path of a stage output, when the manifest lists it. */
  output(s: DoneStage, file: string): string | undefined {
    return s.manifest.outputs.some((o) => o.path === file) ? join(s.dir, file) : undefined;
  }

  /** Iterations t whose retriever finished retrieving (the retrievers the page can show), in order. */
  retrieverIterations(): number[] {
    const out: number[] = [];
    for (let t = 0; this.stage(t, 'train-reader') || this.stage(t, 'retrieve'); t++) if (this.stage(t, 'retrieve')) out.push(t);
    return out;
  }

  /** Whether D⁰ was made by the demo's BM25 stage (its k1, b), else undefined. */
  bm25Settings(): { k1: number; b: number } | undefined {
    const m = readManifest(join(this.dir, PREPARE_KEYS.bm25));
    const c = m?.config as { k1?: unknown; b?: unknown } | undefined;
    return c && typeof c.k1 === 'number' && typeof c.b === 'number' ? { k1: c.k1, b: c.b } : undefined;
  }

  /**
   * The overview rows: the evaluation of Dᵗ for every iteration t that has one (with the teacher metrics of the
   * reader whose scores trained the retriever that produced Dᵗ), then every baseline branch of the run.
   */
  metricRows(split = 'dev'): MetricRow[] {
    const ofSplit = (m: Record<string, number>): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(m)) if (k.startsWith(`${split}.`) && Number.isFinite(v)) out[k.slice(split.length + 1)] = v;
      return out;
    };
    const rows: MetricRow[] = [];
    const bm25 = this.bm25Settings() !== undefined;
    for (let t = 0; ; t++) {
      const e = this.stage(t, 'evaluate');
      if (!e) {
        if (this.stage(t, 'train-reader')) continue; // an unfinished iteration: later ones cannot exist
        break;
      }
      const row: MetricRow = {
        key: `iter-${t}`, kind: 'iteration', iteration: t, metrics: ofSplit(e.manifest.metrics),
        label: t === 0 ? (bm25 ? 'BM25' : 'initial D⁰') : `distilled ${t}`,
      };
      const teacher = t > 0 ? this.stage(t - 1, 'score') : undefined;
      if (teacher) row.teacher = ofSplit(teacher.manifest.metrics);
      rows.push(row);
    }
    const branches = existsSync(this.dir)
      ? readdirSync(this.dir).filter((n) => n.startsWith('baseline-') && existsSync(join(this.dir, n, 'evaluate', MANIFEST_FILE))).sort()
      : [];
    for (const name of branches) {
      const key = name === 'baseline-has_answer' ? 'has_answer' : name.slice('baseline-'.length);
      const m = readManifest(join(this.dir, name, 'evaluate'))!;
      rows.push({
        key: name, kind: 'baseline', metrics: ofSplit(m.metrics),
        label: BASELINE_LABELS[key as BaselineKey] ?? key.replace(/_/g, ' '),
      });
    }
    return rows;
  }
}

/** The dev file of iteration t's retriever ranking (Dᵗ⁺¹), when its retrieve stage wrote one. */
export function rankingFile(run: RunReader, iteration: number, split = 'dev'): string | undefined {
  const s = run.stage(iteration, 'retrieve');
  return s ? run.output(s, OUTPUTS.split(split)) : undefined;
}
