// `fidkd parity --train-steps` and `fidkd parity-compare` as a user runs them (child processes).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, isInputError, runCli, shown } from './__tests__/run-cli.js';

const reader = join(ROOT, 'fixtures', 'oracle', 't5-relu-tied');
const retriever = join(ROOT, 'fixtures', 'oracle', 'bert-tiny');
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fidkd-parity-train-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// each case runs the fidkd command in child processes: seconds each alone, minutes on a loaded 2-core machine
const CHILDREN = 10 * 60_000;
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
const withoutBackendLines = (stderr: string) => stderr.replace(/^backend: .*\n(?:  .*\n)*/m, '');

test('a reader trajectory: the record and its batches; replaying the batches gives the same record; parity-compare agrees', async () => {
  const out = join(dir, 'reader.json');
  const r = await runCli(['parity', reader, '--train-steps', '3', '--out', out]);
  // stderr: the backend lines every training command logs (which backend depends on the machine), then what was written
  expect({ code: r.code, stderr: withoutBackendLines(r.stderr) }).toEqual({ code: 0, stderr: `wrote 3 steps and 47 parameters to ${out} (batches: ${out}.batches.json)\n` });
  const rec = json(out);
  const batches = json(`${out}.batches.json`);
  expect(batches).toMatchObject({ format: 'fidkd-trajectory/1', kind: 'reader', seed: 0, train_steps: 3, optimizer: { accumulation_steps: 2, clip: 1, warmup_steps: 2 } });
  expect(batches.steps[0]).toHaveLength(2);
  expect(rec.losses).toHaveLength(3);
  expect(rec.lrs).toEqual([0, 5e-4, 1e-3]);
  expect(rec.params['shared.weight'].shape).toEqual([64, 32]);
  expect(Object.keys(rec.params)).toHaveLength(47); // HF names of a tied T5: no lm_head
  const again = join(dir, 'reader-again.json');
  expect((await runCli(['parity', reader, '--train-steps', '3', '--batches', `${out}.batches.json`, '--out', again, '--backend', 'cpu-stock'])).code).toBe(0);
  const cmp = await runCli(['parity-compare', again, out, '--batches', `${out}.batches.json`]);
  expect(cmp.code).toBe(0);
  expect(cmp.stdout).toMatch(/^agree over 3 steps/);
  // a reference in the minimal format (another tool's): losses, grad_norms, params only
  const minimal = join(dir, 'reader-minimal.json');
  writeFileSync(minimal, JSON.stringify({ losses: rec.losses, grad_norms: rec.grad_norms, params: rec.params }));
  const cmpMinimal = await runCli(['parity-compare', again, minimal]);
  expect({ code: cmpMinimal.code, stdout: cmpMinimal.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^agree over 3 steps/) });
}, CHILDREN);

test('a retriever trajectory with its loss settings; a differing reference exits 3 naming the first step that differs', async () => {
  const out = join(dir, 'retriever.json');
  const r = await runCli(['parity', retriever, '--train-steps', '2', '--loss', 'margin', '--in-batch-negatives', '--seed', '4', '--clip', '0', '--out', out]);
  expect(r.code).toBe(0);
  expect(json(`${out}.batches.json`)).toMatchObject({
    kind: 'retriever', seed: 4, optimizer: { clip: 0 },
    loss: { variant: 'margin_all_pairs_sum', in_batch_negatives: true, gamma: 1, temperature_gold: 1, temperature_score: 1 },
  });
  const rec = json(out);
  expect(rec.clip_coefficients).toEqual([1, 1]);
  const ref = join(dir, 'retriever-ref.json');
  rec.losses[1] *= 1.001;
  writeFileSync(ref, JSON.stringify(rec));
  const cmp = await runCli(['parity-compare', out, ref]);
  expect(cmp.code).toBe(3);
  expect(cmp.stdout).toMatch(/^DIFFER over 2 steps/);
  expect(cmp.stdout).toMatch(/first difference: step 2: loss/);
}, CHILDREN);

test('bad input: exit 2 with one message naming what to fix', async () => {
  const out = join(dir, 'bad.json');
  const bad = join(dir, 'bad.batches.json');
  const good = json(`${join(dir, 'reader.json')}.batches.json`);
  writeFileSync(bad, JSON.stringify({ ...good, steps: [[{ ...good.steps[0][0], attention_mask: 3 }]] }));
  const shapeless = join(dir, 'shapeless.json');
  const rec = json(join(dir, 'reader.json'));
  writeFileSync(shapeless, JSON.stringify({ ...rec, params: { ...rec.params, 'shared.weight': { shape: [64, 31], data: rec.params['shared.weight'].data } } }));
  const cases: [string[], RegExp][] = [
    [['parity', reader, '--train-steps', '2', '--loss', 'kl', '--out', out], /is a reader \(T5\): --loss is for a retriever only/],
    [['parity', reader, '--train-steps', '2', '--inputs', join(reader, 'inputs.json'), '--out', out], /give either --inputs FILE or --train-steps N/],
    [['parity', reader, '--out', out], /give either --inputs FILE or --train-steps N/],
    [['parity', reader, '--train-steps', '0', '--out', out], /--train-steps must be a positive integer/],
    [['parity', reader, '--train-steps', '2', '--lr', 'fast', '--out', out], /--lr must be a number, got "fast"/],
    [['parity', retriever, '--train-steps', '2', '--loss', 'hinge', '--out', out], /unknown variant 'hinge'/],
    [['parity', reader, '--train-steps', '1', '--batches', bad, '--out', out], /bad\.batches\.json: "steps\[0\]\[0\]\.attention_mask" must be a rank-3/],
    [['parity', retriever, '--train-steps', '1', '--batches', `${join(dir, 'reader.json')}.batches.json`, '--out', out], /holds batches for a reader, but .* is a retriever/],
    [['parity', reader, '--train-steps', '5', '--batches', `${join(dir, 'reader.json')}.batches.json`, '--out', out], /--train-steps 5: .* holds 3 steps/],
    [['parity', reader, '--train-steps', '2', '--batches', `${join(dir, 'reader.json')}.batches.json`, '--seed', '3', '--out', out], /replays .* with its own settings; drop --seed/],
    [['parity-compare', out, join(dir, 'reader.json')], /trajectory .*bad\.json does not exist/],
    [['parity-compare', join(dir, 'reader.json'), bad], /bad\.batches\.json: "losses" must be a list of numbers/],
    [['parity-compare', join(dir, 'reader.json'), shapeless], /shapeless\.json: params\["shared\.weight"\] must be \{"shape": \[\.\.\.\], "data": \[\.\.\.\]\}/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    expect({ args, ok: isInputError(r), shown: shown(r) }).toEqual({ args, ok: true, shown: expect.stringMatching(message) });
  }
}, CHILDREN);
