import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { buildProgram } from './cli.js';
import { resolveDemoConfig } from './commands/demo.js';
import { DEMO_DEFAULTS } from './demo/config.js';
import { readMatrix } from './reproduce/matrix.js';
import { DEFAULT_MATRIX } from './reproduce/shipped.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fidkd-cli-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI in-process; returns exit code and stderr. */
async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  process.exitCode = 0;
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'fidkd', ...args]);
  } finally {
    spy.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stderr };
}

test('demo config: file overrides defaults, flags override the file, unknown keys name the file and key', () => {
  const file = join(dir, 'demo.json');
  writeFileSync(file, JSON.stringify({ seed: 9, pipeline: { iterations: 3, retriever: { loss: 'mse', total_steps: 7 } } }));
  const c = resolveDemoConfig({ config: file, seed: '4', loss: 'margin', baseline: true });
  expect(c.seed).toBe(4);
  expect(c.pipeline.iterations).toBe(3);
  expect(c.pipeline.retriever.loss).toBe('margin');
  expect(c.pipeline.retriever.total_steps).toBe(7);
  expect(c.pipeline.reader.n_context).toBe(DEMO_DEFAULTS.pipeline.reader.n_context);
  expect(DEMO_DEFAULTS.pipeline.retriever.loss).toBe('kl'); // defaults untouched
  const c2 = resolveDemoConfig({ set: ['pipeline.reader.lr=0.01', 'prepare.world.numEntities=50'], baseline: false });
  expect(c2.pipeline.reader.lr).toBe(0.01);
  expect(c2.prepare.world.numEntities).toBe(50);
  expect(c2.pipeline.baseline.has_answer).toBe(false);
  writeFileSync(file, JSON.stringify({ pipeline: { reader: { lrr: 1 } } }));
  expect(() => resolveDemoConfig({ config: file, baseline: true })).toThrow(/demo\.json: unknown key "pipeline\.reader\.lrr"/);
  expect(() => resolveDemoConfig({ loss: 'kld', baseline: true })).toThrow(/--loss kld: expected kl, mse or margin/);
  expect(() => resolveDemoConfig({ iterations: 'two', baseline: true })).toThrow(/--iterations must be an integer/);
});

test('reproduce --config nq-base: the shipped config, its paths read from the current directory; every missing file listed, exit 2', async () => {
  const cwd = process.cwd();
  const project = join(dir, 'project');
  mkdirSync(project, { recursive: true });
  process.chdir(project);
  try {
    for (const name of ['nq-base', 'nq-base.json']) {
      const { code, stderr } = await run(['reproduce', '--config', name]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/configs\/nq-base\.json: 8 problems \(nothing was run\)/);
      expect(stderr).toContain(`missing passages TSV (data.passages; DPR psgs_w100.tsv): ${join(project, 'data', 'psgs_w100.tsv')}`);
      expect(stderr).toContain(`missing reader checkpoint directory (reader.init): ${join(project, 'checkpoints', 't5-base')}`);
      expect(stderr).toMatch(/hint: the @fidkd\/reproduce README .*relative paths of a shipped config resolve against the current directory/);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
    const none = await run(['reproduce', '--config', 'nq-large']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/config file nq-large does not exist\n {2}hint: .*shipped one \(nq-base, tqa-base\)/);
  } finally {
    process.chdir(cwd);
  }
});

test('the default --matrix is the one shipped in the package; a missing --matrix names the flag', async () => {
  expect(DEFAULT_MATRIX.startsWith(join(root, 'apps', 'reproduce', 'configs'))).toBe(true);
  expect(readMatrix(DEFAULT_MATRIX).map((e) => e.config)).toEqual(['nq-base', 'tqa-base']);
  expect(() => readMatrix(join(dir, 'no-matrix.json'))).toThrow(/reproduction matrix \(--matrix\) .*no-matrix\.json does not exist/);
});

test('a stage command without a config says what to pass', async () => {
  const { code, stderr } = await run(['evaluate', '--run-dir', join(dir, 'nothing-here')]);
  expect(code).toBe(2);
  expect(stderr).toMatch(/pipeline-config\.json does not exist/);
  expect(stderr).toMatch(/hint: pass --config FILE/);
});

test('parity dispatches on model_type: a T5 reader and a BERT retriever write every expected.json field', async () => {
  for (const name of ['t5-relu-tied', 'bert-tiny']) {
    const fx = join(root, 'fixtures', 'oracle', name);
    const out = join(dir, `${name}.json`);
    const { code, stderr } = await run(['parity', fx, '--inputs', join(fx, 'inputs.json'), '--out', out, '--backend', 'cpu']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.stringContaining('wrote') });
    const got = JSON.parse(readFileSync(out, 'utf8')) as Record<string, { data?: number[] }>;
    const expected = JSON.parse(readFileSync(join(fx, 'expected.json'), 'utf8')) as Record<string, { data?: number[] }>;
    for (const key of Object.keys(expected).filter((k) => !k.startsWith('_'))) {
      expect(got[key]).toBeDefined();
      const e = expected[key]!.data;
      if (Array.isArray(e) && typeof e[0] === 'number') {
        const g = got[key]!.data!;
        expect(g).toHaveLength(e.length);
        const maxDiff = Math.max(...e.map((v, i) => Math.abs(v - g[i]!)));
        expect(maxDiff).toBeLessThan(1e-3);
      }
    }
  }
});

test('parity rejects a checkpoint of an unknown model type', async () => {
  const ck = join(dir, 'gpt');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(ck, { recursive: true });
  writeFileSync(join(ck, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
  writeFileSync(join(dir, 'in.json'), '{}');
  const { code, stderr } = await run(['parity', ck, '--inputs', join(dir, 'in.json'), '--out', join(dir, 'o.json')]);
  expect(code).toBe(2);
  expect(stderr).toMatch(/model_type "gpt2" is not supported by parity/);
});

test('pretrain-reader: a resumable run that exports the reader, its fixed vocabulary and its log; a rerun reuses it', async () => {
  const out = join(dir, 'pretrain');
  const exported = join(dir, 'pretrained');
  const args = [
    'pretrain-reader', '--out', out, '--quiet', '--export', exported,
    '--set', 'reader.worlds=[900001]', '--set', 'reader.total_steps=4', '--set', 'reader.eval_every=2', '--set', 'reader.eval_questions=10',
    '--set', 'reader.n_context_schedule=[[2,2]]', '--set', 'reader.n_context=4', '--set', 'reader.checkpoint_every=2', '--set', 'tokenizer.vocab_size=300',
    '--set', 'reader.world={"numEntities":40,"numTrain":20,"numDev":5,"numTest":5,"restateRate":0.5}',
  ];
  const first = await run(args);
  expect(first).toEqual({ code: 0, stderr: '' });
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'metrics.jsonl', 'pretrain-config.json']) {
    expect(readFileSync(join(exported, f)).length).toBeGreaterThan(0);
  }
  const log = readFileSync(join(exported, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const steps = log.filter((e) => e.kind === 'step' && e.stage === 'pretrain-reader');
  expect(steps.map((e) => e.metrics.n_context)).toEqual([2, 2, 4, 4]);
  expect(steps.filter((e) => 'heldout_gold_at_1' in e.metrics).map((e) => e.step)).toEqual([2, 4]);
  expect(JSON.parse(readFileSync(join(exported, 'config.json'), 'utf8'))).toMatchObject({ d_model: 64, num_layers: 3, num_decoder_layers: 2 });
  const model = readFileSync(join(exported, 'model.safetensors'));
  expect((await run(args)).code).toBe(0); // every stage done: nothing retrained
  expect(readFileSync(join(exported, 'model.safetensors')).equals(model)).toBe(true);
  // a further phase from that reader, with clozes whose other passages are namesakes' (the name picks the answer)
  const phase2 = join(dir, 'pretrained-2');
  const second = await run([...args.map((a) => (a === out ? `${out}-2` : a === exported ? phase2 : a)), '--init', exported, '--set', 'reader.contexts=["subject","namesakes"]']);
  expect(second).toEqual({ code: 0, stderr: '' });
  expect(readFileSync(join(phase2, 'model.safetensors')).equals(model)).toBe(false);
  expect(readFileSync(join(phase2, 'tokenizer.json')).equals(readFileSync(join(exported, 'tokenizer.json')))).toBe(true);
  // the export carries how each earlier phase was made
  expect(readFileSync(join(phase2, 'phases', 'phase-1-config.json'), 'utf8')).toBe(readFileSync(join(exported, 'pretrain-config.json'), 'utf8'));
  expect(readFileSync(join(phase2, 'phases', 'phase-1-metrics.jsonl'), 'utf8')).toBe(readFileSync(join(exported, 'metrics.jsonl'), 'utf8'));
  expect(JSON.parse(readFileSync(join(phase2, 'pretrain-config.json'), 'utf8')).reader.contexts).toEqual(['subject', 'namesakes']);
  const phase3 = join(dir, 'pretrained-3');
  const third = await run([...args.map((a) => (a === out ? `${out}-4` : a === exported ? phase3 : a)), '--init', phase2, '--set', 'reader.contexts=restated']);
  expect(third).toEqual({ code: 0, stderr: '' });
  expect(readdirSync(join(phase3, 'phases')).sort()).toEqual(['phase-1-config.json', 'phase-1-metrics.jsonl', 'phase-2-config.json', 'phase-2-metrics.jsonl']);
  expect(readFileSync(join(phase3, 'phases', 'phase-2-config.json'), 'utf8')).toBe(readFileSync(join(phase2, 'pretrain-config.json'), 'utf8'));
  const bad = await run([...args.map((a) => (a === out ? `${out}-3` : a)), '--set', 'reader.contexts=mixed']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/reader\.contexts must be one of subject, cloze, namesakes, restated or a non-empty list of them \(got "mixed"\)/);
});

test('demo defaults: the reader starts from the shipped pretrained checkpoint with its vocabulary; empty paths unset them', () => {
  const c = resolveDemoConfig({ baseline: true });
  expect(readFileSync(join(c.pipeline.reader.init!, 'model.safetensors')).length).toBeGreaterThan(0);
  expect(readFileSync(c.prepare.tokenizer.file!, 'utf8')).toContain('"vocab"');
  const scratch = resolveDemoConfig({ baseline: true, set: ['pipeline.reader.init=', 'prepare.tokenizer.file='] });
  expect(scratch.pipeline.reader.init).toBeUndefined();
  expect(scratch.prepare.tokenizer.file).toBeUndefined();
  expect(scratch.pipeline.reader.model).toEqual(DEMO_DEFAULTS.pipeline.reader.model);
});

test('help texts point at nothing an installed user lacks (no source files of this repository)', () => {
  const program = buildProgram();
  for (const command of [program, ...program.commands]) {
    const help = command.helpInformation();
    expect([command.name(), help.match(/\bsrc\/|\.ts\b|apps\/reproduce/g)]).toEqual([command.name(), null]);
  }
});
