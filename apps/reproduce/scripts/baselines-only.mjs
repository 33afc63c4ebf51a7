#!/usr/bin/env node
// Runs only the baseline branches (has_answer, shuffled teacher, oracle teacher) of a demo run directory whose
// iteration 0 is scored, e.g. to check a world against the oracle teacher without training the final reader.
// Usage: node apps/reproduce/scripts/baselines-only.mjs RUN_DIR [has_answer,shuffled_teacher,oracle_teacher]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '@fidkd/core';
import { createStages, runPipeline, StageRunner } from '@fidkd/orchestrator';

const run = process.argv[2];
const want = (process.argv[3] ?? 'has_answer,shuffled_teacher,oracle_teacher').split(',');
await initBackend('auto');
const config = JSON.parse(readFileSync(join(run, 'pipeline-config.json'), 'utf8'));
config.baseline = { has_answer: want.includes('has_answer'), shuffled_teacher: want.includes('shuffled_teacher'), oracle_teacher: want.includes('oracle_teacher') };
const runner = new StageRunner({ runDir: run });
const r = await runPipeline(runner, config, createStages(), { only: (p) => typeof p.iteration !== 'number' });
for (const [name, m] of Object.entries(r.baselines)) {
  console.log(`${name}: dev R@1/5/20 ${[1, 5, 20].map((k) => (100 * m[`dev.recall@${k}`]).toFixed(1)).join(' / ')}  gold R@1/5/20 ${[1, 5, 20].map((k) => (100 * m[`dev.gold_recall@${k}`]).toFixed(1)).join(' / ')}`);
}
