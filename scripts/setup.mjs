#!/usr/bin/env node
// One idempotent set-up for a fresh machine, run by `npm test`, `npm run demo` and `npm run bench:perf`:
//   1. Debian packages the native parts need (libfaiss-dev, libopenblas-dev), installed when missing and root,
//      and Debian's chromium for the web page's browser tests (setup-chromium.mjs);
//   2. `npm ci` when node_modules is missing or older than package-lock.json;
//   3. native addons: faiss-node from its npm source against the system libfaiss (@fidkd/faiss-index's recipe),
//      and @fidkd/tfjs-blas;
//   4. the TypeScript build (turbo, cached);
//   5. Mesa >= 24's software Vulkan driver for the webgpu backend's tests (scripts/setup-mesa-vulkan.mjs);
//   6. under `npm test` only, the Slurm packages of the executor suite's one-node cluster (scripts/setup-slurm.mjs);
//   7. with --torch (`npm test`): PyTorch, the reference of the training-parity tests (scripts/setup-torch.mjs);
//   8. onnxruntime-node, the ONNX Runtime embed backend, present and loading (scripts/setup-onnxruntime.mjs).
// Uses only Node built-ins: it runs before node_modules exists. Each step skips itself when already done.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureMesaVulkan } from './setup-mesa-vulkan.mjs';
import { ensureSlurmPackages } from './setup-slurm.mjs';
import { ensureChromium } from './setup-chromium.mjs';
import { ensureTorch } from './setup-torch.mjs';
import { ensureOnnxRuntime } from './setup-onnxruntime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const skipBuild = process.argv.includes('--no-build');
const withTorch = process.argv.includes('--torch');
const log = (msg) => { if (!quiet) console.error(`[setup] ${msg}`); };

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    throw new Error(`[setup] command failed (exit ${r.status}): ${cmd} ${args.join(' ')}`);
  }
}

// ---- 1. Debian packages -------------------------------------------------------------------------------
const APT_PACKAGES = ['libfaiss-dev', 'libopenblas-dev'];
function missingAptPackages() {
  return APT_PACKAGES.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}
function ensureAptPackages() {
  if (process.platform !== 'linux') {
    log('not Linux: skipping Debian packages; native addons need faiss and OpenBLAS installed by hand');
    return;
  }
  const missing = missingAptPackages();
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(`[setup] missing Debian packages: ${missing.join(' ')}. Install them with:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

// ---- 2. npm ci ----------------------------------------------------------------------------------------
function ensureNodeModules() {
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('npm ci');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

// ---- 3. native addons ---------------------------------------------------------------------------------
// Located only when an addon is actually built: a set-up with nothing to build never needs npm's node-gyp.
function nodeGyp() {
  const npmDir = dirname(dirname(realNpmCli()));
  return join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}
function realNpmCli() {
  // npm exports its own path to scripts it runs; fall back to the usual global location.
  if (process.env.npm_execpath && existsSync(process.env.npm_execpath)) return process.env.npm_execpath;
  for (const p of ['/usr/lib/node_modules/npm/bin/npm-cli.js', '/usr/local/lib/node_modules/npm/bin/npm-cli.js']) {
    if (existsSync(p)) return p;
  }
  throw new Error('[setup] cannot find npm-cli.js to locate node-gyp');
}
function nodeGypArgs() {
  const args = [];
  // Build against the headers of the running node when they are installed (no download needed).
  if (existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
  return args;
}
function buildFaissNode() {
  if (!existsSync(join(root, 'node_modules', 'faiss-node'))) return;
  // The recipe ships with @fidkd/faiss-index (its bin `fidkd-build-faiss-node`); it skips itself when up to date.
  run(process.execPath, [join(root, 'packages', 'faiss-index', 'bin', 'fidkd-build-faiss-node.mjs')], {
    env: { ...process.env, npm_config_node_gyp: process.env.npm_config_node_gyp ?? nodeGyp() },
  });
}
function buildWorkspaceAddon(pkgDir, product) {
  const dir = join(root, pkgDir);
  if (!existsSync(join(dir, 'binding.gyp'))) return;
  const out = join(dir, 'build', 'Release', product);
  const sources = ['binding.gyp', ...listSources(join(dir, 'native'))];
  if (existsSync(out) && sources.every((s) => statSync(join(dir, s)).mtimeMs <= statSync(out).mtimeMs) && canLoad(out)) return;
  log(`building native addon ${pkgDir}`);
  run(process.execPath, [nodeGyp(), 'rebuild', ...nodeGypArgs(), '-j', '2'], { cwd: dir });
}
function listSources(dir) {
  if (!existsSync(dir)) return [];
  return execFileSync('find', [dir, '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean)
    .map((p) => p.slice(dirname(dir).length + 1));
}
function canLoad(file) {
  return spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' }).status === 0;
}

// ---- 4. TypeScript build ------------------------------------------------------------------------------
function buildTypeScript() {
  log('building packages (turbo, cached)');
  run(process.execPath, [join(root, 'node_modules', 'turbo', 'bin', 'turbo'), 'run', 'build', '--output-logs=errors-only'], {
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
}

try {
  ensureAptPackages();
  // the Slurm suite's one-node cluster (npm test only: the demo and the benchmarks never need it)
  if (process.env.npm_lifecycle_event === 'test') ensureSlurmPackages(log);
  ensureChromium({ run, log });
  ensureNodeModules();
  buildFaissNode();
  buildWorkspaceAddon('packages/tfjs-blas', 'fidkd_blas.node');
  if (!skipBuild) buildTypeScript();
  ensureMesaVulkan({ log, run });
  if (withTorch) ensureTorch({ log, quiet });
  ensureOnnxRuntime({ root, run, log });
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
