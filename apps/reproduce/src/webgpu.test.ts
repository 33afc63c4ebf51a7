// `fidkd` on tfjs's webgpu backend as a user runs it (child processes), on this machine's software adapter (Mesa's
// llvmpipe, installed by `npm run setup`): the oracle fixtures through `fidkd parity --backend webgpu`, the tiny
// demo end to end against the cpu backend's, `auto` passing the software adapter over, a missing driver.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, referenceRun, runCli, shown, tinyDemo } from './__tests__/run-cli.js';

const fixtures = join(ROOT, 'fixtures', 'oracle');
let dir: string;
let ref: string;

beforeAll(async () => {
  ({ dir, ref } = await referenceRun('fidkd-webgpu-'));
}, 600_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Max abs difference over every number of `want` (nested objects, arrays, fixture tensors); ints exact. */
function compare(got: unknown, want: unknown, path: string, out: Record<string, number>): void {
  if (typeof want === 'number') {
    out[path] = Math.max(out[path] ?? 0, Math.abs((got as number) - want));
  } else if (Array.isArray(want)) {
    expect({ path, length: (got as unknown[])?.length }).toEqual({ path, length: want.length });
    want.forEach((w, i) => compare((got as unknown[])[i], w, path, out));
  } else if (want && typeof want === 'object') {
    const w = want as Record<string, unknown>;
    if (w.dtype === 'int64') expect({ path, data: (got as { data: number[] }).data }).toEqual({ path, data: w.data });
    for (const [k, v] of Object.entries(w)) if (!k.startsWith('_') && k !== 'dims' && k !== 'dtype' && k !== 'name') compare((got as Record<string, unknown>)?.[k], v, path ? `${path}.${k}` : k, out);
  }
}

test.each([
  ['t5-relu-tied', 'fixtures/oracle/t5-relu-tied'],
  ['t5-fid-official-names', 'fixtures/oracle/t5-relu-tied'],
  ['bert-tiny', 'fixtures/oracle/bert-tiny'],
  ['losses', null],
])('fidkd parity --backend webgpu: %s within 1e-4 of the oracle (generated ids exactly)', async (name, inputsOf) => {
  const inputs = join(ROOT, inputsOf ?? `fixtures/oracle/${name}`, 'inputs.json');
  const expected = JSON.parse(readFileSync(join(inputsOf ? join(ROOT, inputsOf) : join(fixtures, name), 'expected.json'), 'utf8')) as unknown;
  const out = join(dir, `${name}.json`);
  const r = await runCli(['parity', ...(name === 'losses' ? [] : [join(fixtures, name)]), '--inputs', inputs, '--out', out, '--backend', 'webgpu']);
  expect({ code: r.code, out: shown(r) }).toEqual({ code: 0, out: expect.stringContaining('wrote') });
  expect(r.stderr).toMatch(/^backend: webgpu\+software-adapter \(WebGPU on mesa /m);
  expect(r.stderr).toMatch(/^ {2}adapter: vendor mesa, .*llvmpipe.*software \(no GPU\)$/m);
  const errors: Record<string, number> = {};
  compare(JSON.parse(readFileSync(out, 'utf8')), expected, '', errors);
  expect(Object.keys(errors).length).toBeGreaterThan(3);
  for (const [field, e] of Object.entries(errors)) expect({ field, ok: e <= 1e-4 }).toEqual({ field, ok: true });
});

test('fidkd demo --backend webgpu (tiny config): prints the adapter; results.json and every stage equal the cpu run within tolerance', async () => {
  const out = join(dir, 'webgpu');
  const r = await tinyDemo(out, '--backend', 'webgpu');
  expect({ code: r.code, out: shown(r) }).toEqual({ code: 0, out: expect.any(String) });
  expect(r.stderr).toMatch(/^backend: webgpu\+software-adapter \(WebGPU on mesa /m);
  expect(r.stderr).toMatch(/^ {2}adapter: vendor mesa, architecture \S+, device .*llvmpipe.*software \(no GPU\)$/m);
  const gpu = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Record<string, unknown>;
  const cpu = JSON.parse(readFileSync(join(ref, 'results.json'), 'utf8')) as Record<string, unknown>;
  expect(gpu.backend).toMatchObject({ backend: 'webgpu', accelerated: 'software-adapter', adapter: { vendor: 'mesa', software: true } });
  expect(cpu.backend).toMatchObject({ backend: 'cpu' });
  const errors: Record<string, number> = {};
  compare(gpu.iterations, cpu.iterations, 'iterations', errors);
  compare(gpu.baselines, cpu.baselines, 'baselines', errors);
  expect(Object.keys(errors).length).toBeGreaterThan(5);
  for (const [field, e] of Object.entries(errors)) expect({ field, ok: e <= 1e-6 }).toEqual({ field, ok: true });
  // the training stages' losses (the most sensitive numbers) agree to float32 precision
  for (const stage of ['prepare/pretrain-retriever', 'iter-0/train-reader', 'iter-0/train-retriever', 'iter-1/train-reader', 'baseline-has_answer/train-retriever', 'iter-0/score']) {
    const metrics = (d: string) => (JSON.parse(readFileSync(join(d, stage, 'stage-manifest.json'), 'utf8')) as { metrics: Record<string, number> }).metrics;
    const [g, c] = [metrics(out), metrics(ref)];
    for (const [k, v] of Object.entries(c)) {
      if (typeof v === 'number') expect({ stage, k, ok: Math.abs(g[k]! - v) <= 1e-5 * Math.max(1, Math.abs(v)) }).toEqual({ stage, k, ok: true });
    }
  }
}, 600_000); // half a minute on an idle machine; minutes when the 2 cores are shared

test('--backend auto on this machine passes the software adapter over and takes cpu + BLAS', async () => {
  const fx = join(fixtures, 'bert-tiny');
  const r = await runCli(['parity', fx, '--inputs', join(fx, 'inputs.json'), '--out', join(dir, 'auto.json'), '--backend', 'auto']);
  expect({ code: r.code, out: shown(r) }).toEqual({ code: 0, out: expect.any(String) });
  expect(r.stderr).toMatch(/^backend: cpu\+openblas \(/m);
  expect(r.stderr).toMatch(/^ {2}skipped webgpu: only a software adapter \(mesa .*llvmpipe.*\), slower than the cpu backends: not taken by auto/m);
  expect(r.stderr).not.toMatch(/Warning: max/); // the probe's driver messages stay in its child process
});

test('--backend webgpu without a Vulkan driver: exit 2 and what to install, nothing run', async () => {
  const saved = { ...process.env };
  process.env.VK_ICD_FILENAMES = '/nonexistent/none.json';
  process.env.VK_DRIVER_FILES = '/nonexistent/none.json';
  let r;
  try {
    r = await tinyDemo(join(dir, 'no-driver'), '--backend', 'webgpu');
  } finally {
    process.env = saved;
  }
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/fidkd: error: backend 'webgpu': no WebGPU adapter found: .*mesa-vulkan-drivers/);
  // no JavaScript stack trace (Dawn itself logs the failed vkCreateInstance with its C++ source line)
  expect(r.stderr).not.toMatch(/internal error|\n\s+at .*\.(js|ts|mjs):\d+/);
  expect(r.stderr).not.toMatch(/run directory:/);
});
