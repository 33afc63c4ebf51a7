import { resolveSyntheticWorldOptions, SYNTHETIC_WORLD_VERSION } from '@fidkd/data';
import { syntheticPrepareStages } from '../synthetic/prepare.js';

const base = { seed: 4, tokenizer: { vocab_size: 200 }, bm25: { k1: 0.9, b: 0.4, n_passages: 10 } };

test("the world stage is keyed on the generator's resolved options and version, not on the options as given", () => {
  const world = (w: object) => syntheticPrepareStages({ ...base, world: w }, '/tmp/unused').stages[0]!;
  const given = world({}).config as { world: Record<string, unknown>; generator: number; seed: number };
  // a default written out gives the same key as leaving it to the generator…
  expect(world({ numEntities: 800 }).config).toEqual(given);
  // …and every default is part of the key, so a changed default cannot reuse a world made before
  const { seed: _seed, ...defaults } = resolveSyntheticWorldOptions({});
  expect(given.world).toEqual(defaults);
  expect(given.seed).toBe(4);
  expect(given.generator).toBe(SYNTHETIC_WORLD_VERSION);
  expect(world({ numEntities: 700 }).config).not.toEqual(given);
});
