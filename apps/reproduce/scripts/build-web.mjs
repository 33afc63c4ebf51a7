#!/usr/bin/env node
// Builds the page `fidkd export-web` copies into every site: dist/web/{index.html, style.css, app.js,
// vendor/tfjs/*.wasm}. app.js bundles the page (web/src), tfjs (core, the wasm and WebGPU backends) and the library
// code the page runs, from the packages' sources (web/src/library.ts). Those sources import '@fidkd/core' and
// '@tensorflow/tfjs', which here resolve to browser modules: web/src/core-shim.ts (the few pure parts of core they
// use) and @tensorflow/tfjs-core (one tfjs engine, which the backends register into).
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(app, 'dist', 'web');
const require = createRequire(import.meta.url);

const browserModules = {
  name: 'fidkd-browser-modules',
  setup(b) {
    b.onResolve({ filter: /^@fidkd\/core$/ }, () => ({ path: join(app, 'web', 'src', 'core-shim.ts') }));
    b.onResolve({ filter: /^@tensorflow\/tfjs$/ }, (args) => b.resolve('@tensorflow/tfjs-core', { kind: args.kind, resolveDir: args.resolveDir }));
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'vendor', 'tfjs'), { recursive: true });
const result = await build({
  entryPoints: [join(app, 'web', 'src', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'eof',
  plugins: [browserModules],
  logLevel: 'warning',
  metafile: true,
});
for (const f of ['index.html', 'style.css']) copyFileSync(join(app, 'web', f), join(out, f));
const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
for (const f of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) copyFileSync(join(wasmDir, f), join(out, 'vendor', 'tfjs', f));
const bytes = Object.values(result.metafile.outputs).reduce((a, o) => a + o.bytes, 0);
if (process.argv.includes('--verbose')) console.error(`[build-web] ${out}: app.js ${(bytes / 1e6).toFixed(2)} MB`);
