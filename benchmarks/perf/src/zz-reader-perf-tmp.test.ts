import { readerSuite } from './suites/reader.js';
test('reader perf (temporary runner)', async () => {
  const rows = await readerSuite.run({ backends: (process.env.BACKENDS ?? 'blas').split(','), reps: 1, log: (m) => console.log(m) });
  console.log(JSON.stringify(rows, null, 1));
}, 1800000);
