import { createRequire } from 'node:module';

// faiss-node is built from source at set-up (scripts/setup.mjs); this proves the addon loads and searches.
const require = createRequire(import.meta.url);

test('faiss-node loads and searches a small inner-product index', () => {
  let faiss: typeof import('faiss-node');
  try {
    faiss = require('faiss-node');
  } catch (err) {
    throw new Error(`faiss-node does not load: run \`npm run setup\` (needs Debian libfaiss-dev, libopenblas-dev). ${String(err)}`);
  }
  const index = new faiss.IndexFlatIP(2);
  index.add([1, 0, 0, 1, 1, 1]);
  const { labels, distances } = index.search([1, 0.5], 2);
  expect(labels).toEqual([2, 0]);
  expect(distances[0]).toBeCloseTo(1.5, 6);
  expect(distances[1]).toBeCloseTo(1, 6);
});
