// Child process of training/resume.test.ts: saves a checkpoint whose single weight is <value> over <dir> and
// SIGKILLs itself when the save reaches <stage>.
//   node save-child.mjs <core index.js> <dir> <value> <stage>
import { pathToFileURL } from 'node:url';

const [coreIndex, dir, value, killAt] = process.argv.slice(2);
const core = await import(pathToFileURL(coreIndex).href);
core.saveTrainingCheckpoint(
  dir,
  {
    weights: new Map([['w', { dtype: 'F32', shape: [1], data: Float32Array.of(Number(value)) }]]),
    config: { value: Number(value) },
    optimizer: new Map(),
    step: Number(value),
  },
  { onStage: (s) => { if (s === killAt) process.kill(process.pid, 'SIGKILL'); } },
);
