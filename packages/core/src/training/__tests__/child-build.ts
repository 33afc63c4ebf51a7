// Test support: the resume and kill tests run checkpoint code in fresh `node` processes, which cannot load
// TypeScript. This transpiles packages/core/src (types stripped by @swc/core, as jest does) into a directory
// under node_modules/.cache so that its `@tensorflow/tfjs` import resolves to the repository's copy.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const srcDir = fileURLToPath(new URL('../../', import.meta.url));
const repoRoot = join(srcDir, '..', '..', '..');

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === '__tests__' ? [] : listTs(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Transpiles core's sources; returns the path of the built index.js and a cleanup function. */
export async function buildCoreForChild(): Promise<{ index: string; cleanup: () => void }> {
  const swc = await import('@swc/core');
  const out = join(repoRoot, 'node_modules', '.cache', 'fidkd-core-test', `${process.pid}-${Date.now().toString(36)}`);
  for (const file of listTs(srcDir)) {
    const { code } = swc.transformFileSync(file, {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
      sourceMaps: false,
    });
    const dest = join(out, relative(srcDir, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, code);
  }
  return { index: join(out, 'index.js'), cleanup: () => rmSync(out, { recursive: true, force: true }) };
}
