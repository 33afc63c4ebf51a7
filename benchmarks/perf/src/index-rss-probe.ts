#!/usr/bin/env node
// Child process of the index-sizing suite: loads a saved PassageIndex (or, without a directory, only a tiny one,
// for the process's own footprint), searches it once and prints {"peak_rss_mb": VmHWM, "rss_mb": VmRSS} (MB) as its
// last line. VmRSS is read after a forced GC, so it is the steady cost of holding the index (the load's file buffer
// freed); VmHWM adds that transient copy.
//   node --expose-gc benchmarks/perf/dist/index-rss-probe.js [INDEX_DIR] --nq 200
import { PassageIndex, clusteredVectors } from '@fidkd/faiss-index';
import { option } from './args.js';
import { readFileSync } from 'node:fs';
import { peakRssMb } from './peak-rss.js';

const argv = process.argv.slice(2);
const dir = argv[0] && !argv[0].startsWith('--') ? argv[0] : undefined;
const nq = Number(option(argv, '--nq', '200'));
const index = dir ? PassageIndex.load(dir) : PassageIndex.create({ dimension: 768, factory: 'Flat', metric: 'ip' });
if (!dir) index.add(['a'], new Float32Array(768).fill(0.5));
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
// collect the load's file buffer before searching, as a long-running searcher would have, so the search's own
// allocations do not land above it and pin it in the heap
gc();
index.search(clusteredVectors({ count: nq, dimension: index.dimension, clusters: 1000, seed: 2 }), Math.min(100, index.size));
gc();
const vmRss = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
// keep the index reachable until VmRSS is read, so the GC cannot drop it
console.log(JSON.stringify({ peak_rss_mb: peakRssMb(), rss_mb: vmRss ? Number(vmRss[1]) / 1024 : null, size: index.size }));
