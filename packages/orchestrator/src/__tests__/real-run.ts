// Child-process entry for the real-stage kill/resume test: a tiny synthetic world, tiny T5 / BERT, the real
// stage implementations. argv: RUN_DIR. Prints events as JSON lines and a final {"type":"result"} line.
import { initBackend } from '@fidkd/core';
import { StageRunner } from '../runner/stage-runner.js';
import { runPipeline } from '../pipeline.js';
import { createStages } from '../stages/index.js';
import { syntheticPrepareStages } from '../synthetic/prepare.js';
import { tinyPipeline, TINY_PREPARE } from './tiny-config.js';

const [runDir] = process.argv.slice(2);
if (!runDir) throw new Error('usage: real-run.ts RUN_DIR');
await initBackend('cpu');
const runner = new StageRunner({ runDir, listeners: [(e) => process.stdout.write(JSON.stringify(e) + '\n')] });
const prep = syntheticPrepareStages(TINY_PREPARE, runDir);
for (const s of prep.stages) await runner.run(s);
const result = await runPipeline(runner, tinyPipeline(prep.data), createStages());
process.stdout.write(JSON.stringify({ type: 'result', iterations: result.iterations, baseline: result.baseline }) + '\n');
