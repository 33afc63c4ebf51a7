#!/usr/bin/env node
// The PyTorch reference of the training-parity tests (tests/trajectories/torch_reference.py) runs on Debian's
// python3-torch (1.13, CPU). `ensureTorch()` finds a python3 that imports torch and, when none does, installs
// python3-torch with apt (as root; otherwise it says which command to run). `scripts/setup.mjs --torch` calls it
// (`npm test` does); run alone, `node scripts/setup-torch.mjs` installs it and prints the interpreter's path.
// Uses only Node built-ins, like setup.mjs.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DEBIAN_PACKAGE = 'python3-torch';

/** Interpreters tried in order: $FIDKD_PYTHON, the python3 on PATH (often a pyenv shim), Debian's own. */
function candidates() {
  return [...(process.env.FIDKD_PYTHON ? [process.env.FIDKD_PYTHON] : []), 'python3', '/usr/bin/python3'];
}

/** The first interpreter that imports torch, with torch's version; null when none does. */
export function findTorchPython() {
  for (const python of candidates()) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, torch: r.stdout.trim() };
  }
  return null;
}

/** The apt command that installs the reference, for messages. */
export const TORCH_INSTALL_HINT = `apt-get update && apt-get install -y --no-install-recommends ${DEBIAN_PACKAGE}`;

/**
 * Returns { python, torch } for an interpreter with torch, installing Debian's python3-torch first when no
 * interpreter has it (root on Linux with apt). Throws an Error naming the command to run when it cannot install.
 */
export function ensureTorch({ log = (m) => console.error(`[setup] ${m}`), quiet = false } = {}) {
  const found = findTorchPython();
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = process.platform === 'linux' && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    throw new Error(`PyTorch (the reference of tests/trajectories) is missing and cannot be installed here${hasApt ? ' (not root)' : ' (no apt-get)'}. Install it with:\n  sudo ${TORCH_INSTALL_HINT}\nor point FIDKD_PYTHON at a python3 that has torch.`);
  }
  log(`PyTorch is missing: installing Debian ${DEBIAN_PACKAGE} (the reference of the training-parity tests; ~180 packages, a few minutes)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const stdio = quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit';
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', DEBIAN_PACKAGE]]) {
    const r = spawnSync('apt-get', args, { stdio, env });
    if (r.status !== 0) throw new Error(`[setup] apt-get ${args.join(' ')} failed (exit ${r.status})`);
  }
  const after = findTorchPython();
  if (!after) throw new Error(`[setup] ${DEBIAN_PACKAGE} installed, but no python3 imports torch (tried ${candidates().join(', ')})`);
  log(`installed ${DEBIAN_PACKAGE}: torch ${after.torch} for ${after.python}`);
  return after;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(ensureTorch().python);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  }
}
