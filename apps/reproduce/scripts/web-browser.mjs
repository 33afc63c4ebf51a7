// What the web scripts share: an exported site served on 127.0.0.1 and a fresh headless Debian Chromium on it
// (the flags this machine's Chromium needs as root on a closed network; WebGPU through SwiftShader on request).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serveSite } from '../dist/web-export/serve.js';

const FLAGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

/** Serves `dir` and opens a page on it; `close()` stops both and removes the browser profile. */
export async function openSite(dir, { webgpu = false } = {}) {
  const site = await serveSite(dir, { port: 0 });
  const profile = mkdtempSync(join(tmpdir(), 'fidkd-web-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.FIDKD_CHROMIUM || '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 900 },
    args: [...FLAGS, ...(webgpu ? WEBGPU_FLAGS : ['--disable-gpu'])],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const close = async () => {
    await context.close();
    await site.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { url: site.url, page, close };
}

/** Waits until the Search view has loaded the retriever (or said why it could not). */
export async function searchReady(page) {
  await page.waitForFunction(() => /ready on tfjs|could not load/.test(document.querySelector('#search-status')?.textContent ?? ''), null, { timeout: 300000 });
}

/** Types `question` into the search box and waits until the page shows its results. */
export async function typeQuestion(page, question) {
  await page.fill('#search-input', question);
  await page.click('#search-form button[type=submit]');
  await page.waitForFunction((text) => document.querySelector('#search-results')?.dataset.query === text, question);
}
