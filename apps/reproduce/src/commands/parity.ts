import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { initBackend, type BackendName } from '@fidkd/core';
import { writeJsonAtomic } from '@fidkd/orchestrator';
import { readJsonFile } from '../config-files.js';
import { action, UserError } from '../ui/errors.js';

/**
 * `fidkd parity <checkpoint-dir> --inputs inputs.json --out outputs.json`: runs a reader (T5, model_type 't5') or
 * retriever (BERT, model_type 'bert') checkpoint on a fixture-style inputs.json and writes every field of the
 * fixture's expected.json (same names, {dims, shape, dtype, data}), so a checkpoint can be diffed against PyTorch.
 */
export function registerParity(program: Command): void {
  program
    .command('parity')
    .description('run a checkpoint on a fixture-style inputs.json and write every expected.json field (for comparison with PyTorch)')
    .argument('<checkpoint-dir>', 'HF checkpoint directory (config.json + model.safetensors or pytorch_model.bin)')
    .requiredOption('--inputs <file>', 'inputs.json (fixture layout)')
    .requiredOption('--out <file>', 'where to write outputs.json (atomically)')
    .option('--backend <name>', 'tfjs backend: auto, cpu, wasm, tensorflow, tensorflow-gpu', 'cpu')
    .action(action(async (dir: string, opts: { inputs: string; out: string; backend: string }) => {
      const cfgFile = join(dir, 'config.json');
      if (!existsSync(cfgFile)) throw new UserError(`${dir} has no config.json: give a Hugging Face checkpoint directory`);
      const config = readJsonFile(cfgFile, 'checkpoint config') as { model_type?: unknown; architectures?: unknown };
      const inputs = readJsonFile(opts.inputs, 'inputs file') as Record<string, unknown>;
      const modelType = typeof config.model_type === 'string' ? config.model_type : inferModelType(config);
      await initBackend(opts.backend as BackendName);
      let outputs: unknown;
      if (modelType === 't5') {
        const { runReaderParity } = await import('@fidkd/fid-reader');
        outputs = await runReaderParity(dir, inputs);
      } else if (modelType === 'bert') {
        const mod = (await import('@fidkd/bi-encoder')) as Record<string, unknown>;
        const fn = mod.runRetrieverParity as ((d: string, i: unknown) => unknown) | undefined;
        if (typeof fn !== 'function') throw new Error('@fidkd/bi-encoder does not export runRetrieverParity (build it)');
        outputs = await fn(dir, inputs);
      } else {
        throw new UserError(`${cfgFile}: model_type "${String(modelType)}" is not supported by parity (expected "t5" for a reader or "bert" for a retriever)`);
      }
      writeJsonAtomic(opts.out, outputs);
      process.stderr.write(`wrote ${Object.keys(outputs as object).length} fields to ${opts.out}\n`);
    }));
}

/** Official FiD checkpoints may lack model_type: infer from the architecture names / T5- or BERT-specific keys. */
function inferModelType(config: Record<string, unknown>): string | undefined {
  const arch = Array.isArray(config.architectures) ? config.architectures.join(' ') : '';
  if (/T5/.test(arch) || 'd_kv' in config || 'relative_attention_num_buckets' in config) return 't5';
  if (/Bert|Retriever/.test(arch) || 'indexing_dimension' in config || 'num_hidden_layers' in config) return 'bert';
  return undefined;
}
