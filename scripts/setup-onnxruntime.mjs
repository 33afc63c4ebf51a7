// Set-up step for the ONNX Runtime embed backend (@fidkd/bi-encoder's OrtEmbedder, the default engine of the
// embed stage and of the retriever harness when installed): onnxruntime-node, a devDependency of the root (an
// optional peer of @fidkd/bi-encoder), whose npm tarball ships the CPU library for linux-x64/arm64, darwin and
// win32. `npm ci` installs it from the lock file without its install script (.npmrc: ignore-scripts; the script
// would only download GPU builds, which fails offline). This step makes sure it is there and loads: when it is
// missing (a `npm ci --omit=dev`, a lock file without it) it installs the pinned version with --ignore-scripts,
// and it skips itself when the package already loads. Its own module, so that other set-up steps can change
// without touching it. Uses only Node built-ins.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The version package-lock.json pins (what `npm ci` installs), else the root package.json's range. */
function wantedVersion(root) {
  try {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
    const v = lock.packages?.['node_modules/onnxruntime-node']?.version;
    if (v) return v;
  } catch {
    // no lock file: the range below
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return pkg.devDependencies?.['onnxruntime-node'] ?? '^1.30.0';
}

/** Whether onnxruntime-node and its native library load in a child process (no addon loaded into this one). */
function loads(root) {
  const r = spawnSync(process.execPath, ['-e', "require('onnxruntime-node').InferenceSession || process.exit(1)"], { cwd: root, stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Installs onnxruntime-node when it is not there (idempotent). `run(cmd, args, opts)` runs a command and throws on
 * failure; `log(msg)` prints a set-up line. A package that is present but does not load (an unsupported platform)
 * is reported, not fatal: the embed stage then falls back to tfjs (embed.backend "auto"), and the tests that need
 * it fail naming it.
 */
export function ensureOnnxRuntime({ root, run, log }) {
  if (loads(root)) return;
  if (!existsSync(join(root, 'node_modules', 'onnxruntime-node', 'package.json'))) {
    const version = wantedVersion(root);
    log(`installing onnxruntime-node@${version} (--ignore-scripts: its tarball ships the CPU library)`);
    run('npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `onnxruntime-node@${version}`]);
    if (loads(root)) return;
  }
  log('onnxruntime-node is installed but does not load here: embedding falls back to tfjs (embed.backend "auto"); ' +
    'reinstall it with `npm install onnxruntime-node@^1.30.0 --ignore-scripts`');
}
