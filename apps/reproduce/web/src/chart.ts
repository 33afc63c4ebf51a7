/**
 * A small interactive SVG line chart: one line per series over the iterations, baselines as labelled horizontal
 * lines, a tooltip on every point, and a legend whose entries show or hide their series.
 */
import { h, pct, s } from './dom.js';

export interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  points: Array<{ x: number; y: number }>;
}

export interface Reference {
  label: string;
  color: string;
  y: number;
}

const W = 760;
const H = 340;
// the right margin holds the baselines' labels ("has_answer baseline R@20 100.0" at 11 px is ~195 px wide)
const M = { top: 16, right: 215, bottom: 44, left: 48 };

export function lineChart(series: Series[], references: Reference[], xLabels: string[], yTitle: string): HTMLElement {
  const hidden = new Set<string>();
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': yTitle }) as SVGSVGElement;
  const tooltip = h('div', { class: 'tooltip', hidden: true });
  const legend = h('div', { class: 'legend' });
  const wrap = h('div', { class: 'chart-wrap' }, svg, tooltip, legend);
  const xs = Math.max(1, xLabels.length - 1);
  const X = (x: number): number => M.left + ((W - M.left - M.right) * x) / xs;
  const Y = (y: number): number => M.top + (H - M.top - M.bottom) * (1 - y);

  const show = (ev: MouseEvent, text: string): void => {
    tooltip.textContent = text;
    tooltip.hidden = false;
    const box = wrap.getBoundingClientRect();
    tooltip.style.left = `${ev.clientX - box.left + 12}px`;
    tooltip.style.top = `${ev.clientY - box.top - 10}px`;
  };
  const hide = (): void => void (tooltip.hidden = true);

  const draw = (): void => {
    svg.replaceChildren();
    for (let i = 0; i <= 10; i += 2) {
      const y = Y(i / 10);
      svg.append(s('line', { x1: M.left, x2: W - M.right, y1: y, y2: y, class: 'grid' }), s('text', { x: M.left - 8, y: y + 4, class: 'axis', 'text-anchor': 'end' }, `${i * 10}`));
    }
    xLabels.forEach((label, x) => svg.append(s('text', { x: X(x), y: H - M.bottom + 18, class: 'axis', 'text-anchor': 'middle' }, label)));
    svg.append(s('text', { x: (M.left + W - M.right) / 2, y: H - 6, class: 'axis-title', 'text-anchor': 'middle' }, 'iteration (passages Dᵗ)'));
    svg.append(s('text', { x: 12, y: M.top + (H - M.top - M.bottom) / 2, class: 'axis-title', transform: `rotate(-90 12 ${M.top + (H - M.top - M.bottom) / 2})`, 'text-anchor': 'middle' }, yTitle));
    // labels of nearby baselines are spread apart (at least 13 px) so that none covers another
    const shownRefs = references.filter((r) => !hidden.has(r.label)).sort((p, q) => q.y - p.y);
    let lastY = -Infinity;
    for (const r of shownRefs) {
      const line = s('line', { x1: M.left, x2: W - M.right, y1: Y(r.y), y2: Y(r.y), stroke: r.color, class: 'reference' });
      line.addEventListener('mousemove', (ev) => show(ev as MouseEvent, `${r.label}: ${pct(r.y)}`));
      line.addEventListener('mouseleave', hide);
      const labelY = Math.max(Y(r.y) + 4, lastY + 13);
      lastY = labelY;
      svg.append(line, s('text', { x: W - M.right + 6, y: labelY, class: 'ref-label', fill: r.color }, `${r.label} ${pct(r.y)}`));
    }
    for (const se of series) {
      if (hidden.has(se.label) || !se.points.length) continue;
      const d = se.points.map((p, i) => `${i ? 'L' : 'M'}${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ');
      svg.append(s('path', { d, stroke: se.color, class: se.dashed ? 'series dashed' : 'series' }));
      for (const p of se.points) {
        const dot = s('circle', { cx: X(p.x), cy: Y(p.y), r: 4.5, fill: se.color, class: 'point', 'data-series': se.label, 'data-x': p.x, 'data-y': p.y });
        dot.addEventListener('mousemove', (ev) => show(ev as MouseEvent, `${se.label}, iteration ${xLabels[p.x] ?? p.x}: ${pct(p.y)}`));
        dot.addEventListener('mouseleave', hide);
        svg.append(dot);
      }
    }
  };

  for (const item of [...series.map((x) => ({ label: x.label, color: x.color, dashed: x.dashed })), ...references.map((r) => ({ label: r.label, color: r.color, dashed: true }))]) {
    const key = h('button', { type: 'button', class: 'legend-item', 'aria-pressed': 'true', title: 'show / hide' },
      h('span', { class: item.dashed ? 'swatch dashed' : 'swatch' }), item.label);
    (key.firstChild as HTMLElement).style.borderColor = item.color;
    key.addEventListener('click', () => {
      if (hidden.has(item.label)) hidden.delete(item.label);
      else hidden.add(item.label);
      key.setAttribute('aria-pressed', String(!hidden.has(item.label)));
      draw();
    });
    legend.append(key);
  }
  draw();
  return wrap;
}
