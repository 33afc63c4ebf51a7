// The batch layouts declared in this package are @fidkd/core's, exactly: `tsc --noEmit` (npm run check-types)
// fails on this file when one side gains, loses or changes a field; the test body checks the same at run time.
import type * as core from '@fidkd/core';
import type { ReaderBatch, TokenBatch } from './batches.js';

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const tokenBatch: Same<TokenBatch, core.TokenBatch> = true;
const readerBatch: Same<ReaderBatch, core.ReaderBatch> = true;

test('TokenBatch and ReaderBatch are the types @fidkd/core declares (a type error here otherwise)', () => {
  expect([tokenBatch, readerBatch]).toEqual([true, true]);
});
