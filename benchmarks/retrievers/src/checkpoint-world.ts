import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { resolveSyntheticWorldOptions, SYNTHETIC_WORLD_VERSION, type SyntheticWorldOptions } from '@fidkd/data';

/**
 * The world a checkpoint of a `fidkd demo` run was trained on: the run's `prepare/world/stage-manifest.json`
 * (found from the checkpoint directory up, e.g. RUN/iter-0/train-retriever), or undefined for any other checkpoint.
 */
export function checkpointWorld(checkpoint: string): { run: string; seed: number; world: Record<string, unknown>; generator: number } | undefined {
  let dir = resolve(checkpoint);
  for (let up = 0; up < 4; up++) {
    const manifest = join(dir, 'prepare', 'world', 'stage-manifest.json');
    if (existsSync(manifest)) {
      const config = (JSON.parse(readFileSync(manifest, 'utf8')) as { config?: { seed?: number; world?: Record<string, unknown>; generator?: number } }).config;
      if (typeof config?.seed === 'number' && config.world) return { run: dir, seed: config.seed, world: config.world, generator: config.generator ?? 0 };
    }
    dir = dirname(dir);
  }
  return undefined;
}

/**
 * Refuses to score a demo run's checkpoint on another synthetic world than the one it was trained on (its numbers
 * would say nothing), naming the flags that select its world or its run's own files.
 */
export function checkCheckpointWorld(checkpoint: string, seed: number, world: Omit<SyntheticWorldOptions, 'seed'> | undefined): void {
  const trained = checkpointWorld(checkpoint);
  if (!trained) return;
  const { seed: _s, ...asked } = resolveSyntheticWorldOptions({ ...world, seed });
  const same = trained.seed === seed && trained.generator === SYNTHETIC_WORLD_VERSION && JSON.stringify(asked) === JSON.stringify(trained.world);
  if (same) return;
  const sizes = ['numEntities', 'numTrain', 'numDev', 'numTest'] as const;
  const differs = trained.seed !== seed ? `seed ${trained.seed}, not ${seed}` : sizes.some((k) => trained.world[k] !== asked[k])
    ? `${sizes.map((k) => `${k} ${String(trained.world[k])}`).join(', ')}`
    : 'other world settings (or an older generator)';
  throw new Error(
    `checkpoint ${checkpoint} was trained on the world of its run ${trained.run} (${differs}): scoring it on another world says nothing. ` +
    `Score it on its run's own files: --dataset fid --questions ${join(trained.run, 'prepare/world/dev.json')} --passages ${join(trained.run, 'prepare/world/passages.tsv')}`,
  );
}
