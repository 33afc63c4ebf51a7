// Module hooks that let a child `node` process run the repository's TypeScript sources directly (as jest does
// with @swc/jest): `.js` specifiers resolve to the `.ts` file next to them, `@fidkd/<pkg>` to its src/index.ts,
// and `.ts` files are compiled by @swc/core on load. Used by tests that must SIGKILL a real process.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const require = createRequire(join(root, 'package.json'));
const swc = require('@swc/core');

export async function resolve(specifier, context, next) {
  const m = /^@fidkd\/([a-z-]+)$/.exec(specifier);
  if (m && existsSync(join(root, 'packages', m[1], 'src', 'index.ts'))) {
    return { url: pathToFileURL(join(root, 'packages', m[1], 'src', 'index.ts')).href, shortCircuit: true };
  }
  if ((specifier.startsWith('.') || specifier.startsWith('file:')) && specifier.endsWith('.js') && context.parentURL) {
    const url = new URL(specifier, context.parentURL);
    const ts = fileURLToPath(url).replace(/\.js$/, '.ts');
    if (!existsSync(fileURLToPath(url)) && existsSync(ts)) return { url: pathToFileURL(ts).href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const source = await readFile(fileURLToPath(url), 'utf8');
    const out = swc.transformSync(source, {
      filename: fileURLToPath(url),
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    });
    return { format: 'module', source: out.code, shortCircuit: true };
  }
  return next(url, context);
}
