#!/usr/bin/env node
// Builds this package's native addon (build/Release/fidkd_blas.node) with node-gyp, in the installed package:
//   npx fidkd-build-tfjs-blas
// Needs the system's OpenBLAS headers and library (Debian/Ubuntu: libopenblas-dev) and a C compiler, make and
// python3 for node-gyp. Installing the package never builds it ("gypfile": false), so an install cannot fail on
// a machine without OpenBLAS; without the addon the package says so when asked to register its kernels.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(pkg, 'build', 'Release', 'fidkd_blas.node');
const APT = 'sudo apt-get install -y libopenblas-dev gcc make python3';
const nodeGyp = process.env.npm_config_node_gyp;
if (!nodeGyp || !existsSync(nodeGyp)) {
  console.error('fidkd-build-tfjs-blas: run me through npm so that node-gyp is found: `npx fidkd-build-tfjs-blas`');
  process.exit(1);
}
// Headers of the running node when installed beside it; node-gyp would otherwise download them.
const prefix = dirname(dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', '-j', 'max', ...(nodedir ? [`--nodedir=${nodedir}`] : [])], {
  cwd: pkg, stdio: ['ignore', 'inherit', 'inherit'],
});
if (r.status !== 0 || spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], { stdio: 'ignore' }).status !== 0) {
  console.error(`fidkd-build-tfjs-blas: building ${addon} failed; it needs ${APT}`);
  process.exit(1);
}
console.error(`fidkd-build-tfjs-blas: built ${addon}`);
