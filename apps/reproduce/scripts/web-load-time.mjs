#!/usr/bin/env node
// How fast an exported page loads and answers, in headless Chromium on this machine: time to the overview, time
// until the search is ready (tfjs backend, weights, embeddings, BM25 built in the page), and per typed question the
// embedding and search times the page reports. Prints a table; nothing is asserted.
//   node apps/reproduce/scripts/web-load-time.mjs SITE_DIR [--questions 10] [--webgpu]
// (build first: npm run build; needs Debian's chromium, /usr/bin/chromium or FIDKD_CHROMIUM)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSite, searchReady, typeQuestion } from './web-browser.mjs';

const args = process.argv.slice(2);
const dir = args[0];
if (!dir) throw new Error('usage: web-load-time.mjs SITE_DIR [--questions N] [--webgpu]');
const count = args.includes('--questions') ? Number(args[args.indexOf('--questions') + 1]) || 10 : 10;
const webgpu = args.includes('--webgpu');
const questions = JSON.parse(readFileSync(join(dir, 'data', 'questions.json'), 'utf8')).slice(0, count);
const { url, page, close } = await openSite(dir, { webgpu });
try {
  const t0 = Date.now();
  await page.goto(`${url}${webgpu ? '?backend=webgpu' : ''}#search`);
  await page.waitForSelector('#search-form');
  const firstView = Date.now() - t0;
  await searchReady(page);
  const ready = Date.now() - t0;
  const status = await page.textContent('#search-status');
  const times = [];
  for (const q of questions) {
    const s0 = Date.now();
    await typeQuestion(page, q.question);
    times.push({ total: Date.now() - s0, reported: await page.textContent('#search-timing') });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`| site | first view | search ready | per question (median of ${times.length}, typed → shown) |`);
  console.log('|---|---:|---:|---:|');
  console.log(`| ${dir} | ${(firstView / 1000).toFixed(2)} s | ${(ready / 1000).toFixed(2)} s | ${median(times.map((t) => t.total))} ms |`);
  console.log(`\n${status}`);
  for (const t of times) console.log(`  ${t.reported}`);
} finally {
  await close();
}
