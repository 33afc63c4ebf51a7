/**
 * tfjs's WebGPU backend (`@tensorflow/tfjs-backend-webgpu`) in Node, on Dawn's Node binding (npm `webgpu`, which
 * ships a prebuilt `dawn.node`): GPUs through the vendor's Vulkan driver (Metal on macOS, D3D12 on Windows); on a
 * machine without one, Mesa's software Vulkan (lavapipe, the `llvmpipe` adapter; Dawn accepts it from Mesa 24).
 * In the browser (or anywhere `navigator.gpu` already exists) the binding is not needed.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';

/** The adapter (GPUAdapterInfo) the webgpu backend runs on. */
export interface WebGpuAdapter {
  /** e.g. 'nvidia', 'amd', 'intel', 'apple', 'mesa'. */
  vendor: string;
  /** e.g. 'ampere', 'rdna-3', 'gen-12lp', 'software'. */
  architecture: string;
  /** Device name, where the driver gives one (e.g. 'llvmpipe-llvm-15-0-6-256-bits-'). */
  device: string;
  /** Driver description (e.g. 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)'). */
  description: string;
  /** A CPU implementation of the API (Mesa llvmpipe/lavapipe, SwiftShader, WARP): correct, but no GPU. */
  software: boolean;
}

/** What to install for the webgpu backend (both packages are optional peers of @fidkd/core). */
export const WEBGPU_INSTALL = 'npm install webgpu@^0.6.2 @tensorflow/tfjs-backend-webgpu@^4.22.0';

/** Where a Vulkan / Metal driver comes from, for the message when Dawn finds no adapter. */
const DRIVER_HELP =
  'Dawn needs a GPU driver with Vulkan (Linux, Windows: the NVIDIA / AMD / Intel driver; NVIDIA also needs ' +
  'libnvidia-gl / the Vulkan ICD; Debian/Ubuntu: libvulkan1 and the vendor\'s ICD) or Metal (macOS, built in); ' +
  'without a GPU, Mesa >= 24\'s software Vulkan works for tests (Debian bookworm: `apt-get install -t ' +
  'bookworm-backports mesa-vulkan-drivers`; Debian 13 / Ubuntu 24.04: `apt-get install mesa-vulkan-drivers`)';

// Specifiers held in variables so TypeScript and bundlers do not require the optional packages to exist.
const DAWN = 'webgpu';
const TFJS_WEBGPU = '@tensorflow/tfjs-backend-webgpu';

/** The parts of the WebGPU API used here (no dependency on @webgpu/types). */
interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<GpuAdapterLike | null>;
}

/** Why a webgpu attempt failed, or the adapter it runs on. */
export type WebGpuAttempt = { ok: true; adapter: WebGpuAdapter } | { ok: false; reason: string };

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const e = err as { code?: string; message?: string };
  return (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && (e.message ?? '').includes(specifier);
}

function firstLine(err: unknown): string {
  return (err as Error)?.message?.split('\n')[0] ?? String(err);
}

let nodeGpu: GpuLike | null = null;

/**
 * `navigator.gpu`: the browser's, or Dawn's Node binding installed as `navigator.gpu` with the WebGPU globals
 * (GPUBufferUsage, …) that tfjs-backend-webgpu reads. Missing globals only are added; once per process.
 */
async function gpuApi(): Promise<{ ok: true; gpu: GpuLike } | { ok: false; reason: string }> {
  const g = globalThis as { navigator?: { gpu?: GpuLike } };
  if (g.navigator?.gpu) return { ok: true, gpu: g.navigator.gpu };
  if (!nodeGpu) {
    let dawn: { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
    try {
      dawn = (await import(DAWN)) as typeof dawn;
    } catch (err) {
      if (isModuleNotFound(err, DAWN)) return { ok: false, reason: `webgpu (Dawn's Node binding) is not installed (optional; \`${WEBGPU_INSTALL}\`)` };
      return { ok: false, reason: `webgpu (Dawn's Node binding) failed to load: ${firstLine(err)} (its dawn.node is built for linux-x64/arm64, darwin and win32)` };
    }
    for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    nodeGpu = dawn.create([]);
  }
  // Node 21+ has a `navigator` object (without gpu); Node 20 has none
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: nodeGpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: nodeGpu }, configurable: true, writable: true });
  return { ok: true, gpu: nodeGpu };
}

/** GPUAdapterInfo → {@link WebGpuAdapter}; `fallback` is the adapter's isFallbackAdapter where the info lacks it. */
export function adapterOf(info: GpuAdapterInfoLike, fallback = false): WebGpuAdapter {
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const software = info.isFallbackAdapter === true || fallback || architecture === 'software' || architecture === 'swiftshader' ||
    /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i.test(`${device} ${description}`);
  return { vendor, architecture, device, description, software };
}

/** One line naming an adapter: `mesa software (llvmpipe: Mesa 25.0.7 …), software`. */
export function describeAdapter(a: WebGpuAdapter): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  return `${name}${a.description || a.device ? ` (${a.description || a.device})` : ''}, ${a.software ? 'software' : 'hardware'}`;
}

function refuseSoftware(adapter: WebGpuAdapter): WebGpuAttempt {
  return { ok: false, reason: `only a software adapter (${describeAdapter(adapter)}), slower than the cpu backends: not taken by auto (ask for it with backend 'webgpu')` };
}

/**
 * The adapter tfjs's webgpu backend would take (it asks for 'high-performance'), without creating a device or
 * loading the backend; a reason naming what to install when there is none.
 */
export async function probeWebGpuAdapter(): Promise<WebGpuAttempt> {
  const api = await gpuApi();
  if (!api.ok) return api;
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await api.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { ok: false, reason: `requesting a WebGPU adapter failed: ${firstLine(err)}; ${DRIVER_HELP}` };
  }
  if (!adapter) return { ok: false, reason: `no WebGPU adapter found: ${DRIVER_HELP}` };
  return { ok: true, adapter: adapterOf(adapter.info ?? {}, adapter.isFallbackAdapter === true) };
}

// Run by a child process: prints the adapter Dawn offers (or null) as JSON. argv[1]: the binding's file URL.
const PROBE_SCRIPT = `
const { create } = await import(process.argv[1]);
const a = await create([]).requestAdapter({ powerPreference: 'high-performance' });
const i = a?.info ?? {};
process.stdout.write(JSON.stringify(a ? { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter === true || a.isFallbackAdapter === true } : null));
process.exit(0);
`;

/**
 * {@link probeWebGpuAdapter} in a child process, for `auto`: nothing of Dawn is loaded into this process unless a
 * hardware adapter is there to use, a driver that crashes or hangs while probed cannot take the command with it
 * (30 s limit), and the driver's own warnings (Mesa's lavapipe prints two at every start) stay out of the output.
 */
export async function probeWebGpuAdapterIsolated(): Promise<WebGpuAttempt> {
  if ((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) return probeWebGpuAdapter();
  let url: string;
  try {
    url = pathToFileURL(createRequire(import.meta.url).resolve(DAWN)).href;
  } catch {
    return { ok: false, reason: `webgpu (Dawn's Node binding) is not installed (optional; \`${WEBGPU_INSTALL}\`)` };
  }
  const out = await new Promise<{ stdout: string; error: Error | null }>((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', PROBE_SCRIPT, url], { timeout: 30_000, encoding: 'utf8' }, (error, stdout) => resolve({ stdout, error }));
  });
  if (out.error) return { ok: false, reason: `probing for a WebGPU adapter failed (${firstLine(out.error)}); ${DRIVER_HELP}` };
  const info = JSON.parse(out.stdout || 'null') as GpuAdapterInfoLike | null;
  if (!info) return { ok: false, reason: `no WebGPU adapter found: ${DRIVER_HELP}` };
  return { ok: true, adapter: adapterOf(info) };
}

/**
 * Activates tfjs's webgpu backend. A software adapter is refused unless `allowSoftware` (initBackend's `auto`
 * never takes one: on a CPU it is slower than the cpu backend; `auto` also probes in a child process first, see
 * {@link probeWebGpuAdapterIsolated}). The adapter reported is the one the backend's device was created on.
 */
export async function tryWebGpu(allowSoftware: boolean): Promise<WebGpuAttempt> {
  if (!allowSoftware) {
    const isolated = await probeWebGpuAdapterIsolated();
    if (!isolated.ok) return isolated;
    if (isolated.adapter.software) return refuseSoftware(isolated.adapter);
  }
  const probe = await probeWebGpuAdapter();
  if (!probe.ok) return probe;
  if (probe.adapter.software && !allowSoftware) return refuseSoftware(probe.adapter);
  if (!tf.findBackendFactory('webgpu')) {
    try {
      await import(TFJS_WEBGPU);
    } catch (err) {
      if (isModuleNotFound(err, TFJS_WEBGPU)) return { ok: false, reason: `${TFJS_WEBGPU} is not installed (optional; \`${WEBGPU_INSTALL}\`)` };
      return { ok: false, reason: `${TFJS_WEBGPU} failed to load: ${firstLine(err)}` };
    }
    if (!tf.findBackendFactory('webgpu')) {
      return { ok: false, reason: `${TFJS_WEBGPU} registered its backend into another copy of @tensorflow/tfjs-core than @fidkd/core's (deduplicate: \`npm dedupe\`, one @tensorflow/tfjs-core@4.22.0)` };
    }
  }
  try {
    if (!(await tf.setBackend('webgpu'))) return { ok: false, reason: `the webgpu backend did not initialise on ${describeAdapter(probe.adapter)} (see the warning above)` };
  } catch (err) {
    return { ok: false, reason: `the webgpu backend did not initialise: ${firstLine(err)}` };
  }
  patchTransposeProgram(tf.backend());
  const device = (tf.backend() as { device?: { adapterInfo?: GpuAdapterInfoLike } }).device;
  const info = device?.adapterInfo;
  return { ok: true, adapter: info ? adapterOf(info, probe.adapter.software) : probe.adapter };
}

interface ProgramLike {
  shaderKey?: unknown;
  getUserCode(): string;
}

const PATCHED = Symbol.for('fidkd.transposeF32');

/**
 * tfjs-backend-webgpu 4.22's generic TransposeProgram hands an element of its input straight to
 * `setOutputAtIndex(…, f32)`; when the input buffer holds int32 (a cast int32 → float32 keeps the int32 buffer) the
 * WGSL is invalid and current Tint (Dawn, Chrome 141+) refuses it (tensorflow/tfjs#8638; the open fix #8616 wraps
 * the element in f32()). The same wrap is applied here, to the program class, the first time one is run.
 */
function patchTransposeProgram(backend: unknown): void {
  const proto = Object.getPrototypeOf(backend) as { runWebGPUProgram?: (program: ProgramLike, ...rest: unknown[]) => unknown; [PATCHED]?: boolean };
  if (!proto || proto[PATCHED] || typeof proto.runWebGPUProgram !== 'function') return;
  const run = proto.runWebGPUProgram;
  proto.runWebGPUProgram = function (this: unknown, program: ProgramLike, ...rest: unknown[]) {
    const cls = Object.getPrototypeOf(program) as ProgramLike & { [PATCHED]?: boolean };
    if (typeof program.shaderKey === 'string' && program.shaderKey.startsWith('transpose_') && !cls[PATCHED]) {
      const userCode = cls.getUserCode;
      cls.getUserCode = function (this: ProgramLike) {
        const code = userCode.call(this);
        const head = 'setOutputAtIndex(flatIndex, A[';
        const tail = ', uniforms.aShape)]);';
        return code.includes(head) && code.includes(tail) ? code.replace(head, 'setOutputAtIndex(flatIndex, f32(A[').replace(tail, ', uniforms.aShape)]));') : code;
      };
      cls[PATCHED] = true;
    }
    return run.call(this, program, ...rest);
  };
  proto[PATCHED] = true;
}
