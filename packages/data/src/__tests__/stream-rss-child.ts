// Child process of passages-rss.test.ts: streams a passages TSV (and optionally builds its PassageStore),
// printing one JSON line with counts and the peak RSS sampled during the run.
import { PassageStore } from '../passage-store.js';
import { streamPassages } from '../passages-tsv.js';

const [file, mode] = process.argv.slice(2) as [string, string | undefined];
const startRss = process.memoryUsage().rss;
let peak = startRss;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);
const t0 = performance.now();
let count = 0;
let textChars = 0;
for await (const p of streamPassages(file)) {
  count += 1;
  textChars += p.text.length;
}
const streamSeconds = (performance.now() - t0) / 1000;
peak = Math.max(peak, process.memoryUsage().rss);
const result: Record<string, unknown> = { count, textChars, streamSeconds, startRssMB: startRss / 2 ** 20, streamPeakRssMB: peak / 2 ** 20 };
if (mode === 'store') {
  const t1 = performance.now();
  const store = await PassageStore.open(file, { indexPath: `${file}.idx` });
  result.storeBuildSeconds = (performance.now() - t1) / 1000;
  const sample = ['1', String(Math.floor(count / 2)), String(count), 'missing-id'];
  result.sample = await Promise.all(sample.map(async (id) => (await store.get(id))?.title ?? null));
  result.size = store.size;
  store.close();
  peak = Math.max(peak, process.memoryUsage().rss);
  result.storePeakRssMB = peak / 2 ** 20;
}
clearInterval(timer);
console.log(JSON.stringify(result));
