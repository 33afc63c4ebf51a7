#!/usr/bin/env node
// Screenshots of an exported page's three views in headless Chromium (the README's picture comes from this on
// `npm run demo`'s page): overview.png, questions.png (a question whose distilled retriever found the gold passage
// that BM25 missed, when there is one) and search.png (that question typed into the search box).
//   node apps/reproduce/scripts/web-screenshots.mjs SITE_DIR OUT_DIR [--question ID]
// (build first: npm run build; needs Debian's chromium, /usr/bin/chromium or FIDKD_CHROMIUM)
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSite, searchReady, typeQuestion } from './web-browser.mjs';

const args = process.argv.slice(2);
const [dir, outDir] = args;
if (!dir || !outDir) throw new Error('usage: web-screenshots.mjs SITE_DIR OUT_DIR [--question ID]');
const chosen = args.includes('--question') ? args[args.indexOf('--question') + 1] : undefined;
const manifest = JSON.parse(readFileSync(join(dir, 'data', 'site.json'), 'utf8'));
const questions = JSON.parse(readFileSync(join(dir, 'data', 'questions.json'), 'utf8'));
// the page's own filter at k = 5: the distilled retriever's first relevant passage within the top 5, BM25's not
const found = (q) => q.first_hit[manifest.distilled] !== null && q.first_hit[manifest.distilled] <= 5
  && (q.first_hit[manifest.initial] === null || q.first_hit[manifest.initial] > 5);
const q = chosen ? questions.find((x) => x.id === chosen) : questions.find((x) => found(x) && x.gold && x.em) ?? questions.find(found) ?? questions[0];
if (!q) throw new Error(`${dir}: no question ${chosen ?? ''}`);
mkdirSync(outDir, { recursive: true });
const { url, page, close } = await openSite(dir);
try {
  await page.goto(`${url}#overview`);
  await page.waitForSelector('#metrics-table tbody tr');
  await page.screenshot({ path: join(outDir, 'overview.png'), fullPage: true });
  await page.goto(`${url}#questions/${encodeURIComponent(q.id)}`);
  await page.waitForSelector(`#question-text[data-id="${q.id}"]`);
  await page.screenshot({ path: join(outDir, 'questions.png') });
  await page.goto(`${url}#search`);
  await searchReady(page);
  await typeQuestion(page, q.question);
  await page.screenshot({ path: join(outDir, 'search.png'), fullPage: true });
  console.log(`${outDir}: overview.png, questions.png and search.png (question ${q.id}: ${q.question})`);
} finally {
  await close();
}
