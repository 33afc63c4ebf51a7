import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BACKEND_CHOICES, backendLines, initBackendChoice, isBackendChoice } from '@fidkd/core';
import { writeJsonAtomic } from '@fidkd/orchestrator';
import { readJsonFile } from '../config-files.js';
import { action, UserError } from '../ui/errors.js';
import { isLossesInputs, runLossesParity } from './parity-losses.js';

/**
 * `fidkd parity <checkpoint-dir> --inputs inputs.json --out outputs.json`: runs a reader (T5, model_type 't5') or
 * retriever (BERT, model_type 'bert') checkpoint on a fixture-style inputs.json and writes every field of the
 * fixture's expected.json (same names, {dims, shape, dtype, data}), so a checkpoint can be diffed against PyTorch.
 * Without a checkpoint, an inputs.json of the losses fixture (`cases`) gets the distillation losses' outputs.
 * Every read is asynchronous: it runs on every backend, webgpu included.
 */
export function registerParity(program: Command): void {
  program
    .command('parity')
    .description('run a checkpoint (or the losses) on a fixture-style inputs.json and write every expected.json field (for comparison with PyTorch)')
    .argument('[checkpoint-dir]', 'HF checkpoint directory (config.json + model.safetensors or pytorch_model.bin); none for the losses fixture')
    .requiredOption('--inputs <file>', 'inputs.json (fixture layout)')
    .requiredOption('--out <file>', 'where to write outputs.json (atomically)')
    .option('--backend <name>', `tfjs backend: ${BACKEND_CHOICES.join(', ')}`, 'cpu')
    .action(action(async (dir: string | undefined, opts: { inputs: string; out: string; backend: string }) => {
      const inputs = readJsonFile(opts.inputs, 'inputs file') as Record<string, unknown>;
      const losses = isLossesInputs(inputs);
      let modelType: string | undefined;
      if (dir === undefined) {
        if (!losses) throw new UserError(`${opts.inputs} is not the losses fixture's inputs (no "cases"): give the checkpoint directory it belongs to`);
      } else {
        const cfgFile = join(dir, 'config.json');
        if (!existsSync(cfgFile)) throw new UserError(`${dir} has no config.json: give a Hugging Face checkpoint directory`);
        const config = readJsonFile(cfgFile, 'checkpoint config') as { model_type?: unknown; architectures?: unknown };
        modelType = typeof config.model_type === 'string' ? config.model_type : inferModelType(config);
        if (modelType !== 't5' && modelType !== 'bert') {
          throw new UserError(`${cfgFile}: model_type "${String(modelType)}" is not supported by parity (expected "t5" for a reader or "bert" for a retriever)`);
        }
      }
      if (!isBackendChoice(opts.backend)) throw new UserError(`--backend ${opts.backend}: expected one of ${BACKEND_CHOICES.join(', ')}`);
      const report = await initBackendChoice(opts.backend, { log: (l) => process.stderr.write(`${l}\n`) });
      for (const line of backendLines(report)) process.stderr.write(`${line}\n`);
      let outputs: unknown;
      if (modelType === 't5') {
        const { runReaderParityAsync } = await import('@fidkd/fid-reader');
        outputs = await runReaderParityAsync(dir!, inputs);
      } else if (modelType === 'bert') {
        const { runRetrieverParityAsync } = await import('@fidkd/bi-encoder');
        outputs = await runRetrieverParityAsync(dir!, inputs);
      } else {
        outputs = await runLossesParity(inputs, opts.inputs);
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
