import { shardOfQuestions } from './retrieve.js';

test('question shards are whole batches, cover every question once, in order', () => {
  const qs = Array.from({ length: 103 }, (_, i) => i);
  for (const [n, batch] of [[1, 16], [2, 16], [3, 10], [7, 16], [12, 16]] as const) {
    const shards = Array.from({ length: n }, (_, k) => shardOfQuestions(qs, { shard_id: k, num_shards: n, batch_size: batch }));
    expect(shards.flat()).toEqual(qs);
    for (const s of shards) if (s.length) expect(s[0]! % batch).toBe(0); // each shard starts a batch of the unsharded run
  }
  expect(shardOfQuestions(qs, { batch_size: 16 })).toBe(qs);
  expect(shardOfQuestions(qs, { shard_id: 6, num_shards: 7, batch_size: 16 })).toEqual(qs.slice(96));
});
