import { ProgressReporter, type ProgressEvent } from './index.js';

test('start, every tick when not throttled, end with counts and rates', () => {
  const events: ProgressEvent[] = [];
  const r = new ProgressReporter('embed-passages', (e) => events.push(e), 10, 'passages', 0);
  r.tick(4, { loss: 1.5 });
  r.tick(6);
  r.end();
  expect(events.map((e) => e.type)).toEqual(['start', 'progress', 'progress', 'end']);
  expect(events[0]).toEqual({ type: 'start', task: 'embed-passages', total: 10, unit: 'passages' });
  expect(events[1]).toMatchObject({ type: 'progress', task: 'embed-passages', done: 4, total: 10, unit: 'passages', info: { loss: 1.5 } });
  expect(events[2]).toMatchObject({ done: 10 });
  const end = events[3] as Extract<ProgressEvent, { type: 'end' }>;
  expect(end).toMatchObject({ type: 'end', task: 'embed-passages', done: 10, unit: 'passages' });
  expect(end.seconds).toBeGreaterThanOrEqual(0);
  if (end.ratePerSecond !== undefined) expect(end.ratePerSecond).toBeCloseTo(10 / end.seconds, 6);
});

test('throttled: intermediate ticks are dropped, the one reaching the total is always sent', () => {
  const events: ProgressEvent[] = [];
  const r = new ProgressReporter('train', (e) => events.push(e), 3, 'steps', 1e12);
  r.tick();
  r.tick();
  expect(events.map((e) => e.type)).toEqual(['start']);
  r.tick();
  expect(events.map((e) => e.type)).toEqual(['start', 'progress']);
  expect(events[1]).toMatchObject({ done: 3, total: 3 });
});

test('without a total, throttled ticks stay silent until end; without a listener nothing happens', () => {
  const events: ProgressEvent[] = [];
  const r = new ProgressReporter('stream', (e) => events.push(e), undefined, 'rows', 1e12);
  for (let i = 0; i < 5; i++) r.tick();
  r.end();
  expect(events.map((e) => e.type)).toEqual(['start', 'end']);
  expect(events[1]).toMatchObject({ done: 5 });
  const silent = new ProgressReporter('x', undefined, 2);
  expect(() => {
    silent.tick(2);
    silent.end();
  }).not.toThrow();
});
