#!/usr/bin/env node
// How fast an exported page loads and answers, in headless Chromium on this machine: time to the overview, time
// until the search is ready (tfjs backend, weights, embeddings, BM25 built in the page), and per typed question the
// embedding and search times the page reports. Prints a table; nothing is asserted.
//   node apps/reproduce/scripts/web-load-time.mjs SITE_DIR [--questions 10] [--webgpu]
// (build first: npm run build; needs Debian's chromium, /usr/bin/chromium or FIDKD_CHROMIUM)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serveSite } from '../dist/web-export/serve.js';

const args = process.argv.slice(2);
const dir = args[0];
if (!dir) throw new Error('usage: web-load-time.mjs SITE_DIR [--questions N] [--webgpu]');
const count = Number(args[args.indexOf('--questions') + 1] ?? 10) || 10;
const webgpu = args.includes('--webgpu');
const questions = JSON.parse(readFileSync(join(dir, 'data', 'questions.json'), 'utf8')).slice(0, count);
const site = await serveSite(dir, { port: 0 });
const profile = mkdtempSync(join(tmpdir(), 'fidkd-web-load-'));
const flags = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ...(webgpu ? ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'] : ['--disable-gpu'])];
const context = await chromium.launchPersistentContext(profile, { executablePath: process.env.FIDKD_CHROMIUM || '/usr/bin/chromium', headless: true, args: flags });
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const t0 = Date.now();
  await page.goto(`${site.url}${webgpu ? '?backend=webgpu' : ''}#search`);
  await page.waitForSelector('#search-form');
  const firstView = Date.now() - t0;
  await page.waitForFunction(() => /ready on tfjs|could not load/.test(document.querySelector('#search-status')?.textContent ?? ''), null, { timeout: 300000 });
  const ready = Date.now() - t0;
  const status = await page.textContent('#search-status');
  const times = [];
  for (const q of questions) {
    const s0 = Date.now();
    await page.fill('#search-input', q.question);
    await page.click('#search-form button[type=submit]');
    await page.waitForFunction((text) => document.querySelector('#search-results')?.dataset.query === text, q.question);
    times.push({ total: Date.now() - s0, reported: await page.textContent('#search-timing') });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`| site | first view | search ready | per question (median of ${times.length}, typed → shown) |`);
  console.log('|---|---:|---:|---:|');
  console.log(`| ${dir} | ${(firstView / 1000).toFixed(2)} s | ${(ready / 1000).toFixed(2)} s | ${median(times.map((t) => t.total))} ms |`);
  console.log(`\n${status}\nlast question: ${times[times.length - 1]?.reported}`);
} finally {
  await context.close();
  await site.close();
  rmSync(profile, { recursive: true, force: true });
}
