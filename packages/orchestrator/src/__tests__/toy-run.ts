// Child-process entry for the kill/resume test: runs the toy pipeline in argv[2] (run dir) over the toy world in
// argv[3], printing every orchestrator event as one JSON line, then a final {"type":"result"} line.
import { StageRunner } from '../runner/stage-runner.js';
import { runPipeline } from '../pipeline.js';
import { toyConfig, toyStages } from './toy-stages.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [runDir, worldDir] = process.argv.slice(2);
if (!runDir || !worldDir) throw new Error('usage: toy-run.ts RUN_DIR WORLD_DIR');
const data = JSON.parse(readFileSync(join(worldDir, 'data.json'), 'utf8'));
const runner = new StageRunner({ runDir, listeners: [(e) => process.stdout.write(JSON.stringify(e) + '\n')] });
const result = await runPipeline(runner, toyConfig(data), toyStages());
process.stdout.write(JSON.stringify({ type: 'result', iterations: result.iterations, baseline: result.baseline }) + '\n');
