/** The site's data files (see src/web-export/site-format.ts), fetched relative to the page. */
import {
  SITE_FORMAT, type SiteManifest, type SitePassages, type SiteQuestion,
} from '../../src/web-export/site-format.js';

export type { MetricRow, RankSource, SiteManifest, SiteQuestion, SiteQuestionPassage } from '../../src/web-export/site-format.js';

export interface Passage {
  id: string;
  title: string;
  text: string;
}

/** The run as the page holds it. */
export interface Site {
  manifest: SiteManifest;
  questions: SiteQuestion[];
  questionById: Map<string, SiteQuestion>;
  /** Question text → question (the search view marks gold passages when a dev question is typed). */
  questionByText: Map<string, SiteQuestion>;
  passages: Passage[];
  passageRow: Map<string, number>;
}

const DATA = 'data/';

export async function fetchBytes(file: string): Promise<ArrayBuffer> {
  const r = await fetch(DATA + file);
  if (!r.ok) throw new Error(`${DATA}${file}: HTTP ${r.status}`);
  return r.arrayBuffer();
}

export async function fetchJson<T>(file: string): Promise<T> {
  const r = await fetch(DATA + file);
  if (!r.ok) throw new Error(`${DATA}${file}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

export async function loadSite(): Promise<Site> {
  const manifest = await fetchJson<SiteManifest>('site.json');
  if (manifest.format !== SITE_FORMAT) throw new Error(`data/site.json is ${String(manifest.format)}, this page reads ${SITE_FORMAT}: export the run again`);
  const [questions, rows] = await Promise.all([
    fetchJson<SiteQuestion[]>(manifest.questions.file),
    fetchJson<SitePassages>(manifest.passages.file),
  ]);
  const passages = rows.map(([id, title, text]) => ({ id, title, text }));
  return {
    manifest, questions, passages,
    questionById: new Map(questions.map((q) => [q.id, q])),
    questionByText: new Map(questions.map((q) => [q.question.trim(), q])),
    passageRow: new Map(passages.map((p, i) => [p.id, i])),
  };
}
