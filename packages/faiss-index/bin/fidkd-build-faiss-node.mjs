#!/usr/bin/env node
// Builds faiss-node's addon from its npm source against the system's static libfaiss (Debian/Ubuntu
// libfaiss-dev), for machines where faiss-node's own install script cannot download its prebuilt binary:
//   npm install --ignore-scripts @fidkd/faiss-index && npx fidkd-build-faiss-node
// Skips the build when faiss-node already loads and was built by this recipe (`--force` rebuilds).
// Options: --libfaiss=/path/to/libfaiss.a, --force. Needs g++, make and python3 (node-gyp), and npm's node-gyp,
// which `npx` / `npm exec` / `npm run` announce in npm_config_node_gyp.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const native = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
const RECIPE = ['faiss-node.binding.gyp', 'faiss_idx_compat.h'];
const LIBFAISS = ['x86_64-linux-gnu', 'aarch64-linux-gnu', ''].map((a) => join('/usr/lib', a, 'libfaiss.a')).concat('/usr/local/lib/libfaiss.a');
const APT = 'sudo apt-get install -y libfaiss-dev libopenblas-dev g++ make python3';

function fail(message) {
  console.error(`fidkd-build-faiss-node: ${message}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const force = args.includes('--force');
const libfaiss = args.find((a) => a.startsWith('--libfaiss='))?.slice('--libfaiss='.length) ?? LIBFAISS.find((p) => existsSync(p));
if (!libfaiss || !existsSync(libfaiss)) fail(`libfaiss.a not found (looked in ${LIBFAISS.join(', ')}): install it with\n  ${APT}\nor pass --libfaiss=/path/to/libfaiss.a`);

let dir;
try {
  dir = dirname(createRequire(import.meta.url).resolve('faiss-node/package.json'));
} catch {
  fail('faiss-node is not installed next to @fidkd/faiss-index: run `npm install --ignore-scripts @fidkd/faiss-index` first');
}
const addon = join(dir, 'build', 'Release', 'faiss-node.node');
const stampFile = join(dir, 'build', 'fidkd-recipe.sha256');
const stamp = createHash('sha256').update(RECIPE.map((f) => readFileSync(join(native, f), 'utf8')).join('\0')).digest('hex');
const loads = () => spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], { stdio: 'ignore' }).status === 0;
if (!force && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && loads()) {
  console.error(`fidkd-build-faiss-node: ${addon} is up to date`);
  process.exit(0);
}

const nodeGyp = process.env.npm_config_node_gyp;
if (!nodeGyp || !existsSync(nodeGyp)) fail('run me through npm so that node-gyp is found: `npx fidkd-build-faiss-node`');
// Headers of the running node when they are installed beside it (Debian's nodejs, nvm, the official tarballs):
// node-gyp would otherwise download them.
const prefix = dirname(dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);

console.error(`fidkd-build-faiss-node: building ${dir} against ${libfaiss} (seconds to a minute)`);
copyFileSync(join(native, 'faiss-node.binding.gyp'), join(dir, 'binding.gyp'));
copyFileSync(join(native, 'faiss_idx_compat.h'), join(dir, 'faiss_idx_compat.h'));
const gypArgs = ['rebuild', `--libfaiss_a=${libfaiss}`, '-j', 'max', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(process.execPath, [nodeGyp, ...gypArgs], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
if (r.status !== 0) fail(`node-gyp failed (exit ${r.status}); it needs ${APT}`);
if (!loads()) fail(`built ${addon} but it does not load`);
writeFileSync(stampFile, stamp);
console.error(`fidkd-build-faiss-node: built ${addon}`);
