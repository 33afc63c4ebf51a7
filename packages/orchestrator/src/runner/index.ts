export * from './atomic.js';
export * from './events.js';
export * from './hash.js';
export * from './manifest.js';
export * from './metrics-log.js';
export * from './stage-runner.js';
export * from './lock.js';
