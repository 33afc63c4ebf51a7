/**
 * Which engine embeds passages: `tfjs` (BiEncoder on the tfjs backend the app picked) or `ort` (the retriever
 * exported to ONNX and run by onnxruntime-node, OrtEmbedder). `auto` takes `ort` when onnxruntime-node is
 * installed, else `tfjs`. Both give the same embeddings within 1e-5.
 */
import { BiEncoder } from './bi-encoder.js';
import type { EmbedOptions, EmbedPassagesOptions, PassageSource } from './embed-stream.js';
import { isOnnxRuntimeAvailable, loadOnnxRuntime, OrtEmbedder, type OrtEmbedderOptions } from './ort-embedder.js';
import type { TokenBatch } from '@fidkd/core';

export const EMBED_BACKENDS = ['auto', 'ort', 'tfjs'] as const;
export type EmbedBackendChoice = (typeof EMBED_BACKENDS)[number];
export type EmbedBackend = Exclude<EmbedBackendChoice, 'auto'>;

export function isEmbedBackendChoice(x: unknown): x is EmbedBackendChoice {
  return typeof x === 'string' && (EMBED_BACKENDS as readonly string[]).includes(x);
}

/**
 * The engine a choice stands for: `auto` → `ort` when onnxruntime-node loads, else `tfjs`; `ort` when it does not
 * load → BackendUnavailableError naming what to install (never a silent fallback).
 */
export async function resolveEmbedBackend(choice: EmbedBackendChoice): Promise<EmbedBackend> {
  if (!isEmbedBackendChoice(choice)) throw new Error(`embed backend must be one of ${EMBED_BACKENDS.join(', ')} (got ${JSON.stringify(choice)})`);
  if (choice === 'tfjs') return 'tfjs';
  if (choice === 'ort') {
    await loadOnnxRuntime();
    return 'ort';
  }
  return (await isOnnxRuntimeAvailable()) ? 'ort' : 'tfjs';
}

/** What the embed stage and the harness need of an embedder, whichever engine runs it. */
export interface TextEmbedder {
  readonly dimension: number;
  embedQuestions(batch: TokenBatch, options?: EmbedOptions): Promise<Float32Array>;
  embedPassages(source: PassageSource, options?: EmbedPassagesOptions & { onEmbeddings?: undefined }): Promise<Float32Array>;
  embedPassages(source: PassageSource, options: EmbedPassagesOptions & { onEmbeddings: NonNullable<EmbedPassagesOptions['onEmbeddings']> }): Promise<number>;
  dispose(): void | Promise<void>;
}

/** Opens a checkpoint directory with the given engine (`tfjs`: BiEncoder.load; `ort`: OrtEmbedder.load). */
export async function loadEmbedder(dir: string, backend: EmbedBackend, options: OrtEmbedderOptions = {}): Promise<TextEmbedder> {
  return backend === 'ort' ? OrtEmbedder.load(dir, options) : BiEncoder.load(dir);
}
