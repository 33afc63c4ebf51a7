#!/usr/bin/env node
// Performance benchmarks: `npm run bench:perf -- [--suite gemm,bert-layer] [--backend blas,cpu,wasm,webgpu]
// [--reps N] [--json FILE] [--list]`. Prints a table; with --json also writes { rows: [...] } (atomically).
// A suite that throws becomes an error row and the others still run.
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeAdapter } from '@fidkd/core';
import { webgpuAdapter } from './backends.js';
import { SUITES } from './registry.js';
import { errorRow, type BenchRow } from './suite.js';

interface CliOptions {
  suites?: string[];
  backends?: string[];
  reps: number;
  json?: string;
  list: boolean;
}

function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = { reps: 5, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const flag = a.split('=')[0];
    if (flag === '--suite' || flag === '--suites') o.suites = value().split(',').filter(Boolean);
    else if (flag === '--backend' || flag === '--backends') o.backends = value().split(',').filter(Boolean);
    else if (flag === '--reps') {
      o.reps = Number(value());
      if (!Number.isInteger(o.reps) || o.reps < 1) throw new Error('--reps must be a positive integer');
    } else if (flag === '--json') o.json = value();
    else if (flag === '--list') o.list = true;
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: bench:perf [--suite a,b] [--backend blas,blas-unfused,cpu,wasm,webgpu,tensorflow] [--reps N] [--json FILE] [--list]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see --help)`);
  }
  return o;
}

function fmt(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  if (x !== 0 && Math.abs(x) < 0.01) return x.toExponential(2); // e.g. a max |difference| of embeddings
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(digits);
}

function printTable(rows: BenchRow[]): void {
  const header = ['name', 'backend', 'value', 'unit', 'reference', 'ref value', 'ratio'];
  const body = rows.map((r) => [r.name, r.backend, r.error ? 'ERROR' : fmt(r.value), r.unit, r.reference ?? '-', fmt(r.reference_value), fmt(r.ratio)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  for (const r of rows.filter((x) => x.error)) console.log(`error ${r.name} [${r.backend}]: ${r.error}`);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.list) {
    for (const entry of SUITES) {
      try {
        const s = await entry.load();
        console.log(`${s.name.padEnd(14)} ${s.description} (default backends: ${s.defaultBackends.join(',')})`);
      } catch (err) {
        console.log(`${entry.name.padEnd(14)} (fails to load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
      }
    }
    return;
  }
  const wanted = opts.suites ?? SUITES.map((s) => s.name);
  const unknown = wanted.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`unknown suite(s) ${unknown.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`);
  // Quiet tfjs's "install tfjs-node" banner: it is not installable here and the table says what ran.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('tfjs-node')) return;
    warn(...args);
  };
  const rows: BenchRow[] = [];
  for (const entry of SUITES.filter((s) => wanted.includes(s.name))) {
    let backends = opts.backends ?? [];
    try {
      const suite = await entry.load();
      backends = opts.backends ?? [...suite.defaultBackends];
      console.error(`[bench:perf] ${suite.name} on ${backends.join(', ')}`);
      rows.push(...(await suite.run({ backends, reps: opts.reps, log: (m) => console.error(`[bench:perf]   ${m}`) })));
    } catch (err) {
      rows.push(errorRow(entry.name, backends.join(',') || '-', err));
    }
  }
  const adapter = webgpuAdapter();
  if (adapter) for (const r of rows) if (r.backend === 'webgpu') r.adapter = adapter;
  printTable(rows);
  if (adapter) console.log(`webgpu rows ran on: ${describeAdapter(adapter)}${adapter.software ? ' (a CPU implementation of WebGPU: no GPU figure)' : ''}`);
  if (opts.json) {
    const file = resolve(opts.json);
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify({ rows }, null, 2)}\n`);
    renameSync(tmp, file);
    console.error(`[bench:perf] wrote ${file}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
