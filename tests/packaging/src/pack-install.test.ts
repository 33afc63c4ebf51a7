// Every published workspace as a user meets it: packed with `npm pack`, installed alone into an empty project
// (its @fidkd dependencies from their tarballs too, everything else from the npm registry), then its README
// example compiled (TypeScript 5.9, NodeNext, strict) and run, and its bins run through the links npm creates.
// Packages that depend on faiss-node follow their README's offline recipe (`npm install --ignore-scripts`, then
// `npx fidkd-build-faiss-node`): faiss-node's own install script downloads from GitHub.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareOutput, readmeExamples, type ReadmeExample } from './readme-example.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const LIBRARIES = ['core', 'eval', 'losses', 'tokenization', 'data', 'fid-reader', 'bi-encoder', 'faiss-index', 'tfjs-blas', 'orchestrator'];
const WORKSPACES = [...LIBRARIES.map((p) => `packages/${p}`), 'apps/reproduce', 'benchmarks/retrievers'];
/** Packages whose closure holds faiss-node, installed by the README's offline recipe. */
const NEEDS_FAISS = new Set(['@fidkd/faiss-index', '@fidkd/orchestrator', '@fidkd/reproduce', '@fidkd/bench-retrievers']);
const MINUTES = 60_000;

interface Packed {
  name: string;
  version: string;
  tarball: string;
  files: string[];
  manifest: { dependencies?: Record<string, string>; files?: string[]; bin?: Record<string, string> };
}

let work: string;
const packed = new Map<string, Packed>();

/** The environment of a user's shell: no npm_* variables and no PATH entries from this repository's npm run. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  env.PATH = (process.env.PATH ?? '').split(delimiter).filter((p) => !p.startsWith(root) && !p.includes('node-gyp-bin')).join(delimiter);
  return env;
}

function sh(cmd: string, args: string[], cwd: string, what: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: userEnv(), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`${what}: \`${cmd} ${args.join(' ')}\` in ${cwd} exited ${r.status}\n${r.stdout}\n${r.stderr}`.slice(0, 8000));
  }
  return r;
}

/** The @fidkd packages `name` pulls in through `dependencies` (not peers), itself included. */
function closure(name: string, seen = new Set<string>()): Set<string> {
  seen.add(name);
  for (const d of Object.keys(packed.get(name)!.manifest.dependencies ?? {})) if (d.startsWith('@fidkd/') && !seen.has(d)) closure(d, seen);
  return seen;
}

/** An empty project with `names` installed from their tarballs, the way their READMEs say. */
function installAlone(project: string, names: string[]): string {
  const dir = join(work, project);
  mkdirSync(dir, { recursive: true });
  const spec = (n: string) => `file:${packed.get(n)!.tarball}`;
  // overrides: @fidkd dependencies come from the tarballs, and only those the packages ask for get installed.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: `try-${project}`, private: true, type: 'module',
    dependencies: Object.fromEntries(names.map((n) => [n, spec(n)])),
    overrides: Object.fromEntries([...packed.keys()].map((n) => [n, spec(n)])),
  }, null, 2));
  const faiss = names.some((n) => NEEDS_FAISS.has(n));
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...(faiss ? ['--ignore-scripts'] : [])], dir, `installing ${names.join(', ')}`);
  if (faiss) sh('npx', ['fidkd-build-faiss-node'], dir, 'building faiss-node from source');
  const want = [...new Set(names.flatMap((n) => [...closure(n)]))].sort();
  const got = readdirSync(join(dir, 'node_modules', '@fidkd')).map((n) => `@fidkd/${n}`).sort();
  expect(got).toEqual(want);
  return dir;
}

/** Writes, compiles (for TypeScript) and runs one README example in `dir`; checks what it prints. */
function runExample(dir: string, ex: ReadmeExample, where: string): string {
  writeFileSync(join(dir, ex.file), ex.code);
  if (ex.file.endsWith('.json')) return ''; // a file the next examples read
  let run = ex.file;
  if (ex.file.endsWith('.ts')) {
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true,
        skipLibCheck: true, types: ['node'], typeRoots: [join(root, 'node_modules', '@types')],
      },
      files: [ex.file],
    }));
    sh(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], dir, `compiling ${where}`);
    run = ex.file.replace(/\.ts$/, '.js'); // beside it: a README may run it again (`node example.js`)
  }
  const r = ex.file.endsWith('.sh') ? sh('sh', ['-e', run], dir, `running ${where}`) : sh(process.execPath, [run], dir, `running ${where}`);
  if (ex.prints) {
    const diff = compareOutput(r.stdout, ex.prints);
    if (diff) throw new Error(`${where}: ${diff}\n--- printed:\n${r.stdout}\n--- stderr:\n${r.stderr}`);
  }
  return r.stdout;
}

function examplesOf(dir: string, name: string): ReadmeExample[] {
  const readme = readFileSync(join(dir, 'node_modules', name, 'README.md'), 'utf8');
  const examples = readmeExamples(readme);
  if (examples.length === 0) throw new Error(`${name}/README.md marks no example (<!-- example: file -->)`);
  return examples;
}

beforeAll(() => {
  // `npm test` has built everything already; this keeps a direct run of this file honest (turbo is cached).
  execFileSync(process.execPath, [join(root, 'node_modules', 'turbo', 'bin', 'turbo'), 'run', 'build', '--output-logs=errors-only'], {
    cwd: root, stdio: 'ignore', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
  work = mkdtempSync(join(tmpdir(), 'fidkd-pack-'));
  const out = join(work, 'tarballs');
  mkdirSync(out);
  const json = execFileSync('npm', ['pack', '--json', '--pack-destination', out, ...WORKSPACES.map((w) => `--workspace=${w}`)], {
    cwd: root, encoding: 'utf8', maxBuffer: 64 << 20,
  });
  for (const p of JSON.parse(json) as { name: string; version: string; filename: string; files: { path: string }[] }[]) {
    const ws = WORKSPACES.find((w) => JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8')).name === p.name)!;
    packed.set(p.name, {
      name: p.name, version: p.version, tarball: join(out, p.filename), files: p.files.map((f) => f.path),
      manifest: JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8')),
    });
  }
}, 10 * MINUTES);

afterAll(() => {
  // FIDKD_PACK_KEEP=1 keeps the projects for a look (the path is printed).
  if (work && process.env.FIDKD_PACK_KEEP) console.log(`packaging test projects kept in ${work}`);
  else if (work) rmSync(work, { recursive: true, force: true });
});

test('every tarball ships what it lists and nothing that points outside it', () => {
  expect([...packed.keys()].sort()).toHaveLength(WORKSPACES.length);
  for (const p of packed.values()) {
    const where = `${p.name}@${p.version}`;
    // Source and declaration maps point at src/, which is not shipped; nor are test helpers.
    expect([where, p.files.filter((f) => f.endsWith('.map') || /(^|\/)__tests__\//.test(f))]).toEqual([where, []]);
    // Every entry of `files` names something that exists (globs and negations aside).
    for (const f of p.manifest.files ?? []) {
      if (f.startsWith('!') || f.includes('*')) continue;
      expect([where, f, p.files.some((x) => x === f || x.startsWith(`${f}/`))]).toEqual([where, f, true]);
    }
    for (const bin of Object.values(p.manifest.bin ?? {})) expect([where, p.files.includes(bin.replace(/^\.\//, ''))]).toEqual([where, true]);
    // Internal dependencies are semver ranges, not "*".
    for (const [d, range] of Object.entries(p.manifest.dependencies ?? {})) {
      if (d.startsWith('@fidkd/')) expect([where, d, range]).toEqual([where, d, `^${packed.get(d)!.version}`]);
    }
    expect([where, JSON.stringify(p.manifest).includes('example.invalid')]).toEqual([where, false]);
  }
});

test('shipped code sends no one to this repository; library declarations need no @types/node', () => {
  const dir = join(work, 'dts');
  for (const p of packed.values()) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    execFileSync('tar', ['-xzf', p.tarball, '-C', dir]);
    // Error messages and bins must name commands that work where the package is installed.
    for (const f of p.files.filter((x) => /\.(m?js)$/.test(x))) {
      expect([p.name, f, readFileSync(join(dir, 'package', f), 'utf8').includes('npm run setup')]).toEqual([p.name, f, false]);
    }
    if (!LIBRARIES.includes(p.name.slice('@fidkd/'.length)) || p.manifest.dependencies?.['@types/node']) continue;
    for (const f of p.files.filter((x) => x.endsWith('.d.ts'))) {
      const code = readFileSync(join(dir, 'package', f), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect([p.name, f, /\bBuffer\b|\bNodeJS\./.test(code)]).toEqual([p.name, f, false]);
    }
  }
});

describe.each(LIBRARIES.map((p) => `@fidkd/${p}`))('%s installed alone', (name) => {
  test('its README examples compile, run and print what the README says', () => {
    const dir = installAlone(name.slice('@fidkd/'.length), [name]);
    for (const [i, ex] of examplesOf(dir, name).entries()) runExample(dir, ex, `${name} README example ${i + 1} (${ex.file})`);
    // the tokenizer needs no tfjs (272 MB through @fidkd/core's peer)
    if (name === '@fidkd/tokenization') expect(readdirSync(join(dir, 'node_modules')).filter((n) => n === '@tensorflow' || n === '@fidkd')).toEqual(['@fidkd']);
    if (name === '@fidkd/tokenization') expect(readdirSync(join(dir, 'node_modules', '@fidkd'))).toEqual(['tokenization']);
    // without @fidkd/tfjs-blas, the auto backend says how to get its native kernels
    if (name === '@fidkd/core') {
      writeFileSync(join(dir, 'backend.mjs'), "import { initBackendChoice } from '@fidkd/core';\nconsole.log(JSON.stringify((await initBackendChoice('auto')).skipped));\n");
      const skipped = JSON.parse(sh(process.execPath, ['backend.mjs'], dir, 'initBackendChoice auto').stdout) as Array<{ name: string; reason: string }>;
      expect(skipped.find((x) => x.name === 'cpu+openblas')?.reason).toMatch(/npm install --ignore-scripts @fidkd\/tfjs-blas && npx fidkd-build-tfjs-blas/);
    }
  }, 15 * MINUTES);
});

test('@fidkd/reproduce: `fidkd` runs through the symlink npm links', () => {
  const dir = installAlone('reproduce', ['@fidkd/reproduce']);
  const link = join(dir, 'node_modules', '.bin', 'fidkd');
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  const help = sh('npx', ['fidkd', '--help'], dir, 'fidkd --help').stdout;
  expect(help).toMatch(/^Usage: fidkd \[options\] \[command\]/);
  for (const command of ['demo', 'reproduce', 'train-reader', 'score', 'train-retriever', 'embed', 'index', 'retrieve', 'evaluate', 'parity', 'export-web', 'serve']) {
    expect([command, new RegExp(`^  ${command}\\b`, 'm').test(help)]).toEqual([command, true]);
  }
  expect(sh('npx', ['fidkd', '--version'], dir, 'fidkd --version').stdout.trim()).toBe(packed.get('@fidkd/reproduce')!.version);
  // the page `fidkd export-web` copies into every site: built, with tfjs's wasm files
  for (const f of ['dist/web/index.html', 'dist/web/app.js', 'dist/web/vendor/tfjs/tfjs-backend-wasm-simd.wasm']) {
    expect([f, packed.get('@fidkd/reproduce')!.files.includes(f)]).toEqual([f, true]);
  }
  // help texts name nothing an installed user lacks
  for (const command of ['demo', 'reproduce', 'evaluate', 'pretrain-reader']) {
    expect([command, sh('npx', ['fidkd', command, '--help'], dir, `fidkd ${command} --help`).stdout.match(/\bsrc\/|\.ts\b|apps\//g)]).toEqual([command, null]);
  }
  // the shipped nq-base config, by name: as far as its missing data files, each named with its key (exit 2)
  const nq = spawnSync('npx', ['fidkd', 'reproduce', '--config', 'nq-base'], { cwd: dir, env: userEnv(), encoding: 'utf8' });
  expect({ status: nq.status, stderr: nq.stderr }).toEqual({ status: 2, stderr: expect.stringMatching(/configs\/nq-base\.json: 8 problems \(nothing was run\)/) });
  for (const file of ['data/psgs_w100.tsv', 'data/NQ/train.json', 'data/NQ/dev.json', 'data/NQ/test.json', 'checkpoints/t5-base', 'checkpoints/bert-base-uncased']) {
    expect([file, nq.stderr.includes(`: ${join(dir, file)}\n`)]).toEqual([file, true]);
  }
  expect(nq.stderr).not.toMatch(/\n\s+at |internal error/);
}, 15 * MINUTES);

test('@fidkd/reproduce: the README\'s "Your own data" runs as written, to a table, report.md and results.json', () => {
  const dir = join(work, 'reproduce');
  // the README's install line; faiss-node was built by installAlone
  sh('npx', ['fidkd-build-tfjs-blas'], dir, 'building @fidkd/tfjs-blas');
  const examples = examplesOf(dir, '@fidkd/reproduce');
  expect(examples.map((e) => e.file)).toEqual(['make-data.mjs', 'my-config.json', 'run.sh']);
  for (const ex of examples) runExample(dir, ex, `@fidkd/reproduce README (${ex.file})`);
  const results = JSON.parse(readFileSync(join(dir, 'runs', 'gadgets', 'results.json'), 'utf8')) as { iterations: Array<{ retriever: string; recall: Record<string, number> }> };
  expect(results.iterations.map((i) => i.retriever)).toEqual(['initial', 'distilled']);
  expect(Object.keys(results.iterations[1]!.recall)).toEqual(['1', '5', '20']);
  expect(readFileSync(join(dir, 'runs', 'gadgets', 'report.md'), 'utf8')).toMatch(/^# fidkd reproduce: gadgets\n[^]*\| 1 \| distilled \|/);
  expect(readFileSync(join(dir, 'runs', 'gadgets', 'recall.svg'), 'utf8')).toMatch(/^<svg/);
}, 15 * MINUTES);

test('@fidkd/bench-retrievers: the harness bin scores the README\'s retriever module through npm\'s symlink', () => {
  const name = '@fidkd/bench-retrievers';
  const dir = installAlone('bench-retrievers', [name]);
  expect(lstatSync(join(dir, 'node_modules', '.bin', 'fidkd-bench-retrievers')).isSymbolicLink()).toBe(true);
  const examples = examplesOf(dir, name);
  // The retriever module is type-checked against the published types (JSDoc), as its author's editor would.
  const module = examples.find((e) => e.file.endsWith('.mjs'))!;
  writeFileSync(join(dir, module.file), module.code);
  writeFileSync(join(dir, 'jsconfig.json'), JSON.stringify({
    // No @types/node: the module needs none, and this repository's copy would resolve its imports into JS packages.
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2023'], strict: true, checkJs: true,
      allowJs: true, noEmit: true, skipLibCheck: true, types: [] },
    files: [module.file],
  }));
  sh(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'jsconfig.json'], dir, `type-checking ${module.file}`);
  const runs = examples.filter((e) => e.file.endsWith('.sh'));
  expect(runs.length).toBeGreaterThan(0);
  for (const ex of runs) runExample(dir, ex, `${name} README ${ex.file}`);
  // TREC run files are named after the retriever, visibly (not `._my-retriever.mjs.trec`).
  expect(readdirSync(join(dir, 'results')).filter((f) => f.endsWith('.trec')).sort()).toEqual(['bm25.trec', 'my-retriever.mjs.trec']);
}, 15 * MINUTES);
