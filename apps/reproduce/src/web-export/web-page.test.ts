/// <reference lib="dom" />
// The exported page in a real browser: Debian's Chromium (/usr/bin/chromium, installed by `npm run setup`) driven
// headless by playwright-core, on a tiny demo run served on 127.0.0.1. The page's search must rank as `fidkd
// retrieve` did (same ids and order, scores within 1e-4) with tfjs on WebAssembly and on WebGPU (SwiftShader), its
// BM25 as the demo's BM25 stage, its bars must be the run's G; no console error, no request off the machine.
// Screenshots of the three views go to test-artifacts/web-page/.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import playwright, { type BrowserContext, type Page } from 'playwright-core';
import { ROOT, shown, tinyDemo } from '../__tests__/run-cli.js';
import { WEB_ASSETS_DIR } from './export.js';
import { serveSite, type ServedSite } from './serve.js';

const CHROMIUM = process.env.FIDKD_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts', 'web-page');
/** The flags this machine's Chromium needs headless as root on a closed network. */
const FLAGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** WebGPU through Chromium's software Vulkan (SwiftShader) where there is no GPU. */
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

type Ctx = { id: string; score: number };
type Q = { id: string; question: string; ctxs: Ctx[]; gold_passage_ids?: string[] };
const json = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

let dir: string;
let run: string;
let site: ServedSite;
const contexts: BrowserContext[] = [];
/** Every request any page made, and every console error or uncaught exception. */
const requests: string[] = [];
const errors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (sudo apt-get install -y chromium, or npm run setup as root), or set FIDKD_CHROMIUM`);
  if (!existsSync(join(WEB_ASSETS_DIR, 'index.html'))) throw new Error(`the web page is not built (${WEB_ASSETS_DIR}): run \`npm run build\``);
  dir = mkdtempSync(join(tmpdir(), 'fidkd-web-page-'));
  run = join(dir, 'run');
  const demo = await tinyDemo(run); // writes run/web
  if (demo.code !== 0) throw new Error(`the tiny demo failed: ${shown(demo)}`);
  site = await serveSite(join(run, 'web'), { port: 0 });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 180000);

afterAll(async () => {
  for (const c of contexts) await c.close();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh headless Chromium with a new empty profile, watching requests and console errors. */
async function openPage(extraFlags: string[] = ['--disable-gpu']): Promise<Page> {
  const profile = mkdtempSync(join(dir, 'profile-'));
  const context = await playwright.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...extraFlags], viewport: { width: 1280, height: 900 },
  });
  contexts.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  return page;
}

/** Types `question` into the search box and returns both result lists once the page shows them. */
async function search(page: Page, question: string): Promise<{ dense: Ctx[]; bm25: Ctx[] }> {
  await page.fill('#search-input', question);
  await page.click('#search-form button[type=submit]');
  await page.waitForFunction((q) => {
    const r = document.querySelector<HTMLElement>('#search-results');
    return r?.dataset.state === 'error' || (r?.dataset.state === 'ready' && r.dataset.query === q);
  }, question, { timeout: 60000 });
  const read = (sel: string): Promise<Ctx[]> => page.$$eval(sel, (els) => els.map((e) => ({ id: (e as HTMLElement).dataset.id!, score: Number((e as HTMLElement).dataset.score) })));
  return { dense: await read('#dense-results li'), bm25: await read('#bm25-results li') };
}

/** The page's top hits equal the file's (ids in order, scores within 1e-4) over the file's depth. */
function expectSameRanking(page: Ctx[], file: Ctx[], what: string): void {
  const n = file.length;
  expect({ what, ids: page.slice(0, n).map((c) => c.id) }).toEqual({ what, ids: file.map((c) => c.id) });
  const worst = Math.max(...file.map((c, i) => Math.abs(c.score - page[i]!.score)));
  expect({ what, within: worst <= 1e-4, worst }).toEqual({ what, within: true, worst });
}

test('overview: every evaluate stage of the run in the table and the chart', async () => {
  const page = await openPage();
  await page.goto(`${site.url}#overview`);
  await page.waitForSelector('#metrics-table tbody tr');
  const rows = await page.$$eval('#metrics-table tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.key));
  expect(rows).toEqual(['iter-0', 'iter-1', 'baseline-has_answer', 'baseline-shuffled_teacher']);
  const r5 = await page.$$eval('#metrics-table tbody tr', (trs) => trs.map((tr) => Number(tr.querySelectorAll('td')[3]!.getAttribute('data-value'))));
  const manifest = (key: string): number => json<{ metrics: Record<string, number> }>(join(run, key, 'evaluate', 'stage-manifest.json')).metrics['dev.recall@5']!;
  expect(r5).toEqual(rows.map((k) => manifest(k!)));
  expect(await page.locator('svg.chart circle.point').count()).toBeGreaterThanOrEqual(6);
  await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
});

test('questions: the G bars are the run\'s scored file, gold passages marked, ranks and answers of the run, filters', async () => {
  const page = await openPage();
  const scored = json<Q[]>(join(run, 'iter-0', 'score', 'dev.json'));
  const retrieved = new Map(json<Q[]>(join(run, 'iter-0', 'retrieve', 'dev.json')).map((q) => [q.id, q]));
  const answers = new Map(json<Array<{ id: string; answer: string; em: boolean }>>(join(run, 'iter-0', 'evaluate', 'dev-answers.json')).map((a) => [a.id, a]));
  for (const q of scored) {
    await page.goto(`${site.url}#questions/${encodeURIComponent(q.id)}`);
    await page.waitForSelector(`#question-text[data-id="${q.id}"]`);
    const rows = await page.$$eval('#passage-table tbody tr', (trs) => trs.map((tr) => ({
      id: (tr as HTMLElement).dataset.id!,
      g: Number(tr.querySelector<HTMLElement>('.g-cell')!.dataset.g),
      gold: tr.classList.contains('gold'),
      rank: tr.querySelector<HTMLElement>('td[data-ranking="iter-0"]')!.textContent,
    })));
    expect(rows.map((r) => [r.id, r.g])).toEqual(q.ctxs.map((c) => [c.id, c.score]));
    expect(rows.map((r) => r.gold)).toEqual(q.ctxs.map((c) => Boolean(q.gold_passage_ids?.includes(c.id))));
    expect(rows.map((r) => r.rank)).toEqual(q.ctxs.map((c) => {
      const i = retrieved.get(q.id)!.ctxs.findIndex((x) => x.id === c.id);
      return i >= 0 ? String(i + 1) : '>6';
    }));
    expect(await page.textContent('#reader-answer')).toContain(answers.get(q.id)!.answer);
  }
  // the filters: "the reader answered wrong" keeps exactly the questions the run scored as not exact
  await page.check('#filter-wrong');
  const wrong = await page.$$eval('#question-list a[data-id]', (as) => as.map((a) => (a as HTMLElement).dataset.id));
  expect(wrong).toEqual(scored.filter((q) => !answers.get(q.id)!.em).map((q) => q.id));
  await page.uncheck('#filter-wrong');
  await page.check('#filter-found');
  const found = await page.$$eval('#question-list a[data-id]', (as) => as.map((a) => (a as HTMLElement).dataset.id));
  const bm25 = new Map(json<Q[]>(join(run, 'prepare', 'bm25', 'dev.json')).map((q) => [q.id, q]));
  const firstGold = (q: Q | undefined, gold: string[]): number => (q?.ctxs.findIndex((c) => gold.includes(c.id)) ?? -1);
  const k = Number(await page.inputValue('#questions-k'));
  expect(found).toEqual(scored.filter((q) => {
    const d = firstGold(retrieved.get(q.id), q.gold_passage_ids!);
    const b = firstGold(bm25.get(q.id), q.gold_passage_ids!);
    return d >= 0 && d < k && (b < 0 || b >= k);
  }).map((q) => q.id));
  await page.uncheck('#filter-found');
  const shown = scored.find((q) => q.ctxs.some((c) => q.gold_passage_ids?.includes(c.id))) ?? scored[0]!;
  await page.goto(`${site.url}#questions/${encodeURIComponent(shown.id)}`);
  await page.waitForSelector(`#question-text[data-id="${shown.id}"]`);
  await page.screenshot({ path: join(ARTIFACTS, 'questions.png'), fullPage: true });
});

/** Types several dev questions; the page's rankings must be the run's. */
async function searchAsTheRunDid(page: Page, backend: string, count: number): Promise<void> {
  await page.goto(`${site.url}${backend === 'webgpu' ? '?backend=webgpu' : ''}#search`);
  await page.waitForFunction(() => /ready on tfjs|could not load/.test(document.querySelector('#search-status')?.textContent ?? ''), null, { timeout: 90000 });
  expect(await page.textContent('#search-status')).toContain(`ready on tfjs ${backend}`);
  const dense = json<Q[]>(join(run, 'iter-0', 'retrieve', 'dev.json'));
  await page.selectOption('#search-k', String(dense[0]!.ctxs.length)); // the depth the run retrieved
  const bm25 = new Map(json<Q[]>(join(run, 'prepare', 'bm25', 'dev.json')).map((q) => [q.id, q]));
  for (const q of dense.slice(0, count)) {
    const got = await search(page, q.question);
    expectSameRanking(got.dense, q.ctxs, `${backend}: ${q.question}`);
    expectSameRanking(got.bm25, bm25.get(q.id)!.ctxs, `BM25: ${q.question}`);
  }
}

test('search on WebAssembly: typed dev questions rank as `fidkd retrieve` ranked them, BM25 as the run\'s D⁰', async () => {
  const page = await openPage();
  await searchAsTheRunDid(page, 'wasm', 5);
  // tokens shown are those of the retriever's tokenizer, [CLS] … [SEP]
  const tokens = await page.$$eval('#search-tokens code', (cs) => cs.map((c) => c.textContent));
  expect(tokens[0]).toBe('[CLS]');
  expect(tokens[tokens.length - 1]).toBe('[SEP]');
  await page.screenshot({ path: join(ARTIFACTS, 'search.png'), fullPage: true });
}, 180000);

test('search on WebGPU where the browser has an adapter (SwiftShader here): the same rankings', async () => {
  const page = await openPage(WEBGPU_FLAGS);
  await searchAsTheRunDid(page, 'webgpu', 3);
}, 180000);

test('no console error and no request outside the served site (all on 127.0.0.1)', () => {
  expect(requests.length).toBeGreaterThan(10);
  expect(requests.filter((u) => !u.startsWith(site.url) && !u.startsWith('data:'))).toEqual([]);
  expect(errors).toEqual([]);
});
