import { mrrAtK, topKAccuracy } from './index.js';

const T = true;
const F = false;
// first hits at ranks 2, none, 1, 3
const hits = [[F, T, F], [F, F, F], [T, F, F], [F, F, T]];

test('topKAccuracy counts questions with a hit in the first k', () => {
  expect(topKAccuracy(hits, [1, 2, 3, 100])).toEqual({ 1: 0.25, 2: 0.5, 3: 0.75, 100: 0.75 });
});

test('mrrAtK averages 1/rank of the first hit within k', () => {
  expect(mrrAtK(hits, 3)).toBeCloseTo((1 / 2 + 0 + 1 + 1 / 3) / 4, 12);
  expect(mrrAtK(hits, 2)).toBeCloseTo((1 / 2 + 1) / 4, 12);
  expect(mrrAtK(hits, 1)).toBeCloseTo(1 / 4, 12);
});

test('bad arguments give clear errors', () => {
  expect(() => topKAccuracy([], [1])).toThrow(/no questions/);
  expect(() => topKAccuracy(hits, [0])).toThrow(/positive integer/);
  expect(() => mrrAtK(hits, 1.5)).toThrow(/positive integer/);
});
