#!/usr/bin/env node
// Slurm for the test suite: the Debian packages of a one-node cluster (slurmctld, slurmd, slurm-client, munge),
// installed when missing — idempotent, a no-op once they are there. `npm test` runs it through setup.mjs; the
// Slurm suite's set-up runs this file too (apps/reproduce/src/__tests__/slurm-cluster.ts), so a test run started
// another way gets them as well. The daemons themselves are started by the tests, with their own config.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SLURM_PACKAGES = ['slurmctld', 'slurmd', 'slurm-client', 'munge'];

export function missingSlurmPackages() {
  return SLURM_PACKAGES.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

/** Installs the missing packages as root (apt waits for another install's lock); otherwise says what to run. */
export function ensureSlurmPackages(log = (msg) => console.error(`[setup] ${msg}`)) {
  if (process.platform !== 'linux' || spawnSync('dpkg-query', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('[setup] the Slurm tests need slurmctld, slurmd, the Slurm client and munge: install them with your system\'s packages (Debian: apt-get install slurmctld slurmd slurm-client munge)');
  }
  const missing = missingSlurmPackages();
  if (missing.length === 0) return;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error(`[setup] missing Debian packages for the Slurm tests: ${missing.join(' ')}. Install them with:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
  }
  log(`installing Debian packages for the Slurm tests: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => {
    const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=900', ...args], { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0) throw new Error(`[setup] apt-get ${args.join(' ')} failed (exit ${r.status})`);
  };
  apt(['update', '-qq']);
  // the packages' own services are not started (policy-rc.d or no init): the tests run their own daemons
  apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    ensureSlurmPackages();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
