// Node module hooks so a child process can run this repo's TypeScript sources directly (as jest does with
// @swc/jest): `@fidkd/<pkg>` → packages/<pkg>/src/index.ts, `./x.js` → `./x.ts` when that exists, .ts → swc.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const require = createRequire(join(root, 'package.json'));
const swc = require('@swc/core');

export async function resolve(specifier, context, next) {
  const pkg = /^@fidkd\/([\w-]+)$/.exec(specifier);
  if (pkg) return { url: pathToFileURL(join(root, 'packages', pkg[1], 'src', 'index.ts')).href, shortCircuit: true };
  if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const ts = fileURLToPath(new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL));
    if (existsSync(ts)) return { url: pathToFileURL(ts).href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.endsWith('.ts')) {
    const { code } = swc.transformFileSync(fileURLToPath(url), {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
    });
    return { format: 'module', source: code, shortCircuit: true };
  }
  return next(url, context);
}
