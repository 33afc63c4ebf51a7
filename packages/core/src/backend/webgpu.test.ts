// The webgpu backend on this machine's software adapter (Mesa >= 24's llvmpipe, installed by `npm run setup`).
import { execFileSync, spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import {
  AdamW, BackendUnavailableError, applyClippedGradients, backendLines, backendRecord, canReadSync, initBackend, readNumbers,
  runReadTaskSync, variablesToStateDict, variablesToStateDictAsync, type BackendReport, type ReadTask,
} from '../index.js';

let report: BackendReport;

beforeAll(async () => {
  // fails here, naming what to install, where Dawn finds no adapter (no Mesa >= 24, no GPU driver)
  report = await initBackend('webgpu');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

test('--backend webgpu takes the software adapter and reports it (vendor, architecture, description, software)', () => {
  expect(report).toMatchObject({ backend: 'webgpu', accelerated: 'software-adapter' });
  expect(report.adapter).toMatchObject({ vendor: 'mesa', software: true });
  expect(report.adapter!.description).toMatch(/llvmpipe/);
  expect(report.reason).toMatch(/software/);
  expect(backendRecord(report)).toEqual({ backend: 'webgpu', accelerated: 'software-adapter', adapter: report.adapter });
  expect(backendLines(report)[1]).toMatch(/^ {2}adapter: vendor mesa, architecture \S+, device .*llvmpipe.*, software \(no GPU\)$/);
  expect(tf.getBackend()).toBe('webgpu');
});

test('auto passes the software adapter over (then cpu with BLAS here) and says why', async () => {
  const r = await initBackend('auto');
  expect(r.skipped[0]).toEqual({ name: 'webgpu', reason: expect.stringMatching(/only a software adapter \(mesa .*llvmpipe.*\).*not taken by auto/) });
  expect(r.backend).not.toBe('webgpu');
  expect(r.adapter).toBeUndefined();
  await initBackend('webgpu');
  expect(tf.getBackend()).toBe('webgpu');
});

test('without a Vulkan driver: exit-2 style error naming what to install (child process, no ICD)', () => {
  const script = `import { initBackend } from '@fidkd/core';
    try { await initBackend('webgpu'); console.log('taken'); } catch (e) { console.log(e.name + ': ' + e.message); }
    try { const r = await initBackend('auto'); console.log('auto: ' + r.backend + ' / ' + r.skipped[0].reason); } catch (e) { console.log('auto threw ' + e.message); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8', cwd: new URL('.', import.meta.url).pathname, env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/none.json', VK_DRIVER_FILES: '/nonexistent/none.json' },
  });
  expect(r.stdout).toMatch(/^BackendUnavailableError: backend 'webgpu': no WebGPU adapter found: .*mesa-vulkan-drivers/m);
  expect(r.stdout).toMatch(/^auto: cpu \/ no WebGPU adapter found/m);
});

test('values stay on the device until read: one read for loss and norm; sync reads refused with the async name', async () => {
  expect(canReadSync()).toBe(false);
  const v = tf.variable(tf.randomNormal([40, 30], 0, 1, 'float32', 1));
  expect(() => variablesToStateDict(new Map([['w', v]]))).toThrow(/variablesToStateDict reads tensors synchronously, which the webgpu backend cannot do in Node: use variablesToStateDictAsync/);
  const sd = await variablesToStateDictAsync(new Map([['w', v]]));
  expect(sd.get('w')!.data).toHaveLength(1200);
  // a sync run is refused before the task starts: it computes nothing and holds nothing
  const before = tf.memory().numTensors;
  let started = false;
  function* task(): ReadTask<number> {
    started = true;
    const held = tf.ones([2000]);
    try {
      return (yield [held])[0]!.length;
    } finally {
      held.dispose();
    }
  }
  expect(() => runReadTaskSync(task(), 'x', 'xAsync')).toThrow(/use xAsync/);
  expect(started).toBe(false);
  expect(tf.memory().numTensors).toBe(before);
  const [a, b, c] = await readNumbers([tf.scalar(2.5), 7, undefined]);
  expect([a, b, c]).toEqual([2.5, 7, undefined]);
  v.dispose();
});

test('clipped AdamW step on webgpu equals the cpu one (norm read once, clip factor on the device)', async () => {
  const init = Float32Array.from({ length: 600 }, (_, i) => Math.sin(i));
  const grad = Float32Array.from({ length: 600 }, (_, i) => 3 * Math.cos(i * 0.7));
  const run = async (backend: string): Promise<{ p: Float32Array; norm: number; m: Float32Array }> => {
    await tf.setBackend(backend);
    const vars = new Map([['w', tf.variable(tf.tensor2d(init, [20, 30]))]]);
    const opt = new AdamW({ lr: 1e-2, weightDecay: 0.1 });
    let norm = 0;
    for (let step = 0; step < 3; step++) {
      const g = new Map([['w', tf.tensor2d(grad.map((x) => x * (step + 1)), [20, 30])]]);
      [norm] = (await readNumbers([applyClippedGradients(opt, vars, g, { lr: 1e-2, maxGradNorm: 1 })])) as [number];
      tf.dispose([...g.values()]);
    }
    const p = (await vars.get('w')!.data()) as Float32Array;
    const m = (await opt.getStateAsync()).get('exp_avg.w')!.data as Float32Array;
    opt.dispose();
    vars.get('w')!.dispose();
    return { p, norm, m };
  };
  const cpu = await run('cpu');
  const gpu = await run('webgpu');
  expect(Math.abs(gpu.norm - cpu.norm) / cpu.norm).toBeLessThan(1e-6);
  expect(cpu.norm).toBeGreaterThan(1); // clipping was active
  let maxDiff = 0;
  for (let i = 0; i < cpu.p.length; i++) maxDiff = Math.max(maxDiff, Math.abs(cpu.p[i]! - gpu.p[i]!), Math.abs(cpu.m[i]! - gpu.m[i]!));
  expect(maxDiff).toBeLessThan(1e-6);
});

test('an int32 tensor cast to float32 and transposed (tfjs#8638: invalid WGSL without the f32 wrap)', async () => {
  const x = tf.tidy(() => tf.cast(tf.reshape(tf.range(0, 2 * 300 * 3, 1, 'int32'), [2, 300, 3]), 'float32'));
  const s = tf.sum(x, 1);
  expect(Array.from(await s.data())).toEqual([134550, 134850, 135150, 404550, 404850, 405150]);
  tf.dispose([x, s]);
});

test('without the binding (module resolution hides `webgpu`): the error names both packages to install', () => {
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier === 'webgpu') throw Object.assign(new Error("Cannot find package 'webgpu'"), { code: 'ERR_MODULE_NOT_FOUND' });
    return next(specifier, context);
  }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const script = `import { initBackend } from '@fidkd/core';
    try { await initBackend('webgpu'); console.log('taken'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
  const out = execFileSync(process.execPath, ['--no-warnings', '--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', script], {
    encoding: 'utf8', cwd: new URL('.', import.meta.url).pathname,
  });
  expect(out.trim()).toBe("BackendUnavailableError: backend 'webgpu': webgpu (Dawn's Node binding) is not installed (optional; `npm install webgpu@^0.6.2 @tensorflow/tfjs-backend-webgpu@^4.22.0`)");
});
