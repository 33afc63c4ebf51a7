/**
 * Questions: any dev question → the n_context passages reader t read, with its relevance scores G as bars (the
 * teacher distribution softmax(G)), the gold passage marked, each passage's rank under D⁰ and under every
 * iteration's retriever, the reader's answer and the gold answers. Filters: the distilled retriever found the
 * relevant passage in its top k where D⁰ (BM25) did not; the reader answered wrong.
 */
import type { Site, SiteQuestion } from './data.js';
import { h } from './dom.js';

/** softmax over the scores (null where any is missing). */
function softmax(g: Array<number | null>): number[] | null {
  if (g.some((x) => x === null)) return null;
  const m = Math.max(...(g as number[]));
  const e = (g as number[]).map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** `text` with the answer strings marked (case-insensitive). */
function marked(text: string, answers: string[]): Array<Node | string> {
  const needles = answers.filter((a) => a.trim()).map((a) => a.toLowerCase());
  if (!needles.length) return [text];
  const lower = text.toLowerCase();
  const out: Array<Node | string> = [];
  let i = 0;
  while (i < text.length) {
    let at = -1;
    let len = 0;
    for (const n of needles) {
      const j = lower.indexOf(n, i);
      if (j >= 0 && (at < 0 || j < at)) [at, len] = [j, n.length];
    }
    if (at < 0) break;
    out.push(text.slice(i, at), h('mark', {}, text.slice(at, at + len)));
    i = at + len;
  }
  out.push(text.slice(i));
  return out;
}

export function renderQuestions(site: Site, view: HTMLElement, selected?: string): void {
  const m = site.manifest;
  const label = (key: string): string => m.rankings.find((r) => r.key === key)?.label ?? key;
  const ks = m.run.k.filter((k) => k <= m.run.n_passages);
  let k = ks.includes(5) ? 5 : ks[0] ?? 1;
  const search = h('input', { type: 'search', id: 'question-filter', placeholder: 'filter by words or id', 'aria-label': 'filter questions' });
  const kPicker = h('select', { id: 'questions-k', 'aria-label': 'top k' }, ...ks.map((x) => h('option', { value: x, selected: x === k }, `top ${x}`)));
  const found = h('input', { type: 'checkbox', id: 'filter-found' });
  const wrong = h('input', { type: 'checkbox', id: 'filter-wrong', disabled: !m.questions.answered });
  const count = h('span', { class: 'muted', id: 'question-count' });
  const list = h('ol', { class: 'question-list', id: 'question-list' });
  const detail = h('div', { class: 'question-detail', id: 'question-detail' });

  const foundWhatInitialMissed = (q: SiteQuestion): boolean => {
    const d = q.first_hit[m.distilled];
    const b = q.first_hit[m.initial];
    return d !== null && d !== undefined && d <= k && (b === null || b === undefined || b > k);
  };
  const refresh = (): void => {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const shown = site.questions.filter((q) => (!found.checked || foundWhatInitialMissed(q)) && (!wrong.checked || q.em === false)
      && words.every((w) => q.question.toLowerCase().includes(w) || q.id.toLowerCase() === w));
    count.textContent = `${shown.length} of ${site.questions.length} questions`;
    list.replaceChildren(...shown.slice(0, 500).map((q) => {
      const a = h('a', { href: `#questions/${encodeURIComponent(q.id)}`, 'data-id': q.id, class: q.id === selected ? 'current' : undefined },
        q.question, q.em === false ? h('span', { class: 'badge wrong', title: 'the reader answered wrong' }, '✗') : null);
      return h('li', {}, a);
    }));
    if (shown.length > 500) list.append(h('li', { class: 'muted' }, `… ${shown.length - 500} more: narrow the filter`));
  };
  for (const el of [search, kPicker, found, wrong]) el.addEventListener(el === search ? 'input' : 'change', () => {
    k = Number(kPicker.value);
    refresh();
  });

  const q = selected ? site.questionById.get(selected) : site.questions[0];
  if (q) showQuestion(site, q, detail);
  else detail.replaceChildren(h('p', { class: 'muted' }, `no dev question ${JSON.stringify(selected)} in this run`));
  selected = q?.id;
  refresh();
  view.replaceChildren(h('section', { class: 'card questions' },
    h('h2', {}, 'Questions'),
    h('p', { class: 'muted' }, `Dev questions with the ${m.run.n_context} passages reader ${m.run.iteration} read (Dᵗ for t = ${m.run.iteration}), its relevance scores G (bars: softmax over the passages, the distribution the retriever was distilled from), and each passage's rank under every retriever.`),
    h('div', { class: 'controls' }, search, kPicker,
      h('label', {}, found, ` ${label(m.distilled)} found what ${label(m.initial)} missed`),
      h('label', {}, wrong, ' the reader answered wrong'), count),
    h('div', { class: 'split' }, h('nav', { class: 'list-pane' }, list), detail)));
}

function showQuestion(site: Site, q: SiteQuestion, detail: HTMLElement): void {
  const m = site.manifest;
  const p = softmax(q.passages.map((x) => x.g));
  const answer = q.answer === null
    ? h('span', { class: 'muted' }, 'not in this run')
    : h('span', { id: 'reader-answer', class: q.em ? 'right' : 'wrong' }, `“${q.answer}” ${q.em ? '✓ exact match' : '✗'}`);
  const rankCells = (ranks: Record<string, number | null>): HTMLElement[] => m.rankings.map((r) => {
    const v = ranks[r.key];
    return h('td', { class: 'num rank', 'data-ranking': r.key }, v === null || v === undefined ? `>${m.run.n_passages}` : String(v));
  });
  detail.replaceChildren(
    h('h3', { id: 'question-text', 'data-id': q.id }, q.question),
    h('dl', { class: 'facts' },
      h('dt', {}, 'gold answers'), h('dd', { id: 'gold-answers' }, q.answers.join(' · ')),
      h('dt', {}, `reader ${m.run.iteration}'s answer`), h('dd', {}, answer),
      h('dt', {}, 'first relevant passage'), h('dd', {}, m.rankings.map((r) => {
        const v = q.first_hit[r.key];
        return `${r.label}: ${v === null || v === undefined ? `none in top ${m.run.n_passages}` : `#${v}`}`;
      }).join(' · '), q.gold ? '' : ' (relevant: has the answer; this data set has no gold passages)')),
    h('table', { class: 'passages', id: 'passage-table' },
      h('thead', {}, h('tr', {},
        h('th', {}, '#'), h('th', { class: 'g-col' }, 'reader score G'), h('th', {}, 'passage'),
        ...m.rankings.map((r) => h('th', { class: 'num', title: `rank under ${r.label}` }, r.label)))),
      h('tbody', {}, ...q.passages.map((x, i) => {
        const psg = site.passages[site.passageRow.get(x.id) ?? -1];
        const bar = h('span', { class: 'bar' });
        if (p) bar.style.width = `${(100 * p[i]!).toFixed(2)}%`;
        return h('tr', { 'data-id': x.id, class: x.gold ? 'gold' : undefined },
          h('td', { class: 'num' }, String(i + 1)),
          h('td', { class: 'g-cell', 'data-g': x.g === null ? undefined : String(x.g) },
            x.g === null ? h('span', { class: 'muted' }, 'no G') : [h('span', { class: 'bar-track' }, bar), h('span', { class: 'g-value' }, `${x.g.toFixed(3)} · ${(100 * p![i]!).toFixed(1)}%`)]),
          h('td', { class: 'passage' },
            h('strong', {}, psg?.title ?? x.id), ' ', x.gold ? h('span', { class: 'badge gold', title: 'the passage that states the answer' }, 'gold') : null,
            x.has_answer ? h('span', { class: 'badge answer', title: 'contains an answer string (DPR has_answer)' }, 'has answer') : null,
            h('div', {}, psg ? marked(psg.text, q.answers) : '')),
          ...rankCells(x.ranks));
      }))),
    ...(m.questions.scored ? [] : [h('p', { class: 'muted' }, 'This run has no scored dev file: no reader scores G.')]),
  );
}
