/**
 * Search: a question typed in the page, tokenized by the JavaScript WordPiece, embedded by the distilled BERT on
 * tfjs, searched over the exported passage embeddings (flat inner product), beside BM25's top k for the same text
 * (a BM25 index built in the page over the same passages).
 */
import type { Site } from './data.js';
import { h } from './dom.js';
import { Bm25Index } from './library.js';
import { PageRetriever } from './retriever.js';

let retriever: Promise<PageRetriever> | undefined;
let bm25: Promise<Bm25Index> | undefined;

/** Starts loading the retriever (weights, embeddings, tfjs backend) and building BM25, once. */
export function prepareSearch(site: Site): { retriever: Promise<PageRetriever>; bm25: Promise<Bm25Index> } {
  if (!retriever || !bm25) {
    retriever = PageRetriever.load(site);
    bm25 = Bm25Index.build(site.passages, { k1: site.manifest.bm25.k1, b: site.manifest.bm25.b });
    // failures are shown where they are awaited (the search status and results), not as unhandled rejections
    retriever.catch(() => undefined);
    bm25.catch(() => undefined);
  }
  return { retriever, bm25 };
}

export function renderSearch(site: Site, view: HTMLElement): void {
  const m = site.manifest;
  const input = h('input', { type: 'search', id: 'search-input', placeholder: 'Type a question, e.g. a dev question of the run', 'aria-label': 'question', autocomplete: 'off' });
  // the run's own depth (retrieve.n_passages) among the choices: the page then lists what `fidkd retrieve` kept
  const ks = [...new Set([5, 10, 20, 50, m.run.n_passages])].sort((a, b) => a - b);
  const kPicker = h('select', { id: 'search-k', 'aria-label': 'top k' }, ...ks.map((x) => h('option', { value: x, selected: x === 10 }, `top ${x}`)));
  const button = h('button', { type: 'submit' }, 'Search');
  const status = h('p', { class: 'muted', id: 'search-status' }, 'Loading the retriever…');
  const results = h('div', { id: 'search-results', 'data-state': 'idle' });
  const form = h('form', { class: 'controls', id: 'search-form' }, input, kPicker, button);
  const examples = h('p', { class: 'muted' }, 'Dev questions to try: ', ...site.questions.slice(0, 3).flatMap((q, i) => {
    const a = h('a', { href: '#search', 'data-question': q.question }, q.question);
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      input.value = q.question;
      form.requestSubmit();
    });
    return i ? [' · ', a] : [a];
  }));
  const r = prepareSearch(site).retriever;
  r.then((x) => (status.textContent = `Retriever of iteration ${m.run.iteration} ready on tfjs ${x.backend}; ${m.embeddings.count} passages × ${m.embeddings.dimension} (${m.embeddings.dtype}).`))
    .catch((err: Error) => (status.textContent = `The retriever could not load: ${err.message}`));

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    results.dataset.state = 'loading';
    void run(site, text, Number(kPicker.value), results).catch((err: Error) => {
      results.dataset.state = 'error';
      results.replaceChildren(h('p', { class: 'wrong' }, `Search failed: ${err.message}`));
    });
  });
  view.replaceChildren(h('section', { class: 'card' },
    h('h2', {}, 'Search'),
    h('p', { class: 'muted' }, `The question is tokenized in the page exactly as the retriever's tokenizer does, embedded by the distilled retriever of iteration ${m.run.iteration} (BERT on tfjs in this browser), and compared with every passage embedding (inner product, as FAISS Flat). BM25 (k1 ${m.bm25.k1}, b ${m.bm25.b}${m.bm25.same_as_initial ? ', the run\'s D⁰ settings' : ''}) runs in the page too.`),
    form, examples, status, results));
}

async function run(site: Site, text: string, k: number, results: HTMLElement): Promise<void> {
  const { retriever, bm25 } = prepareSearch(site);
  const [r, index] = await Promise.all([retriever, bm25]);
  const t0 = performance.now();
  const { tokens } = await r.tokenize(text);
  const q = await r.embed(text);
  const t1 = performance.now();
  const dense = r.search(q, k);
  const t2 = performance.now();
  const lexical = index.search(text, k);
  const t3 = performance.now();
  const dev = site.questionByText.get(text);
  const gold = new Set(dev?.gold ?? []);
  const item = (id: string, score: number, rank: number): HTMLElement => {
    const p = site.passages[site.passageRow.get(id)!]!;
    return h('li', { 'data-id': id, 'data-score': String(score), class: gold.has(id) ? 'gold' : undefined },
      h('span', { class: 'score' }, score.toFixed(4)),
      h('strong', {}, p.title), gold.has(id) ? h('span', { class: 'badge gold' }, 'gold') : null,
      h('div', { class: 'muted' }, `#${rank} · id ${id}`), h('div', {}, p.text));
  };
  results.replaceChildren(
    h('p', { class: 'tokens', id: 'search-tokens' }, 'Tokens: ', ...tokens.map((t) => h('code', {}, t))),
    dev ? h('p', { class: 'muted' }, `This is dev question ${dev.id}; its gold passage is marked. Gold answers: ${dev.answers.join(' · ')}.`) : '',
    h('p', { class: 'muted', id: 'search-timing' }, `embedded in ${(t1 - t0).toFixed(0)} ms on ${r.backend}, ${site.passages.length} passages scored in ${(t2 - t1).toFixed(0)} ms, BM25 in ${(t3 - t2).toFixed(0)} ms.`),
    h('div', { class: 'columns' },
      h('section', {}, h('h3', {}, `Distilled retriever (iteration ${site.manifest.run.iteration})`),
        h('ol', { class: 'hits', id: 'dense-results' }, ...dense.map((x, i) => item(site.passages[x.row]!.id, x.score, i + 1)))),
      h('section', {}, h('h3', {}, 'BM25'),
        h('ol', { class: 'hits', id: 'bm25-results' }, ...lexical.map((x, i) => item(x.id, x.score, i + 1))),
        lexical.length ? null : h('p', { class: 'muted' }, 'No passage shares a word with the question.'))),
  );
  results.dataset.state = 'ready';
  results.dataset.query = text;
}
