/** The page of a run: loads data/site.json and friends, then shows the view named by the address (#overview…). */
import { loadSite, type Site } from './data.js';
import { h } from './dom.js';
import { renderOverview } from './overview.js';
import { renderQuestions } from './questions.js';
import { prepareSearch, renderSearch } from './search.js';

function route(site: Site, view: HTMLElement): void {
  const [name = 'overview', arg] = location.hash.replace(/^#/, '').split('/');
  const page = ['overview', 'questions', 'search'].includes(name) ? name : 'overview';
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a[data-view]')) a.classList.toggle('active', a.dataset.view === page);
  if (page === 'questions') renderQuestions(site, view, arg ? decodeURIComponent(arg) : undefined);
  else if (page === 'search') renderSearch(site, view);
  else renderOverview(site, view);
  document.body.dataset.view = page;
}

async function start(): Promise<void> {
  const view = document.getElementById('view')!;
  const site = await loadSite();
  const m = site.manifest;
  document.title = `fidkd · ${m.run.name}`;
  document.getElementById('run-title')!.textContent = `${m.run.name} · iteration ${m.run.iteration} of ${m.run.iterations}`;
  window.addEventListener('hashchange', () => route(site, view));
  route(site, view);
  // the retriever and BM25 load in the background, so that a search is answered at once
  prepareSearch(site);
}

start().catch((err: Error) => {
  document.getElementById('view')!.replaceChildren(h('p', { class: 'wrong' }, `This page could not load the run: ${err.message}`));
  document.body.dataset.view = 'error';
});
