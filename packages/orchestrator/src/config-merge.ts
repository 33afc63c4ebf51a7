/**
 * Layers of settings merged over typed defaults (a JSON file over the defaults, `--set key=value` flags over
 * that): every unknown key, wrong type and reserved name of a layer is collected — each named by its source and
 * dotted key, with the closest known key as a "did you mean" — so that a user sees every problem at once.
 */
import { ConfigError } from './config.js';
import { didYouMean } from './did-you-mean.js';

/**
 * Optional keys of the pipeline config (absent from the defaults, still valid in files and flags), by the section
 * they belong to: `retriever.gamma` is valid, `reader.gamma` is not. A key path matches an entry when it ends with
 * it (the demo nests the pipeline: `pipeline.retriever.gamma`).
 */
export const OPTIONAL_KEYS: ReadonlySet<string> = new Set([
  'reader.init', 'reader.model', 'reader.scheduler_steps',
  'retriever.init', 'retriever.model', 'retriever.scheduler_steps', 'retriever.indexing_dimension', 'retriever.loss_variant',
  'retriever.gamma', 'retriever.temperature_gold', 'retriever.temperature_score', 'retriever.namesake_group',
  'score.layers', 'embed.backend', 'index.ef_search', 'index.nprobe', 'retrieve.num_shards', 'data.test', 'baseline.shuffled_teacher', 'baseline.oracle_teacher',
]);

/**
 * Names that are no setting anywhere: an object's built-in properties (`toString`, `valueOf`, `hasOwnProperty`
 * …), which `key in object` would find, and `__proto__` / `constructor` / `prototype`, which would reach them.
 */
export function isReservedKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype' || key in Object.prototype;
}

/** Options of {@link mergeConfigLayer}. */
export interface MergeOptions {
  /** Sections whose keys are free-form (a model config, the synthetic world's options): not checked here. */
  openKeys?: readonly string[];
  /** Optional keys (see {@link OPTIONAL_KEYS}, the default). */
  optional?: ReadonlySet<string>;
}

/** What a layer gives: the merged config, its problems (empty when it merged cleanly) and the keys it set. */
export interface MergedLayer<T> {
  config: T;
  /** `source: message` lines, one per problem. */
  problems: string[];
  /** Dotted paths of the leaves this layer set (`reader.model.d_model`), for "this setting is ignored" checks. */
  paths: string[];
}

const DEFAULT_OPEN = ['model', 'world'];

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A copy of a parsed JSON value in which `__proto__` stays an ordinary key (then refused as reserved). */
function own(entries: Array<[string, unknown]>): Record<string, unknown> {
  return Object.fromEntries(entries);
}

/**
 * Merges `override` into `base` recursively (arrays and scalars replace; `null` removes an optional key). Keys
 * unknown to `base`, reserved names and a scalar where a section belongs are collected as problems naming
 * `source` and the dotted key; keys under `openKeys` sections are left to the model's own validation.
 */
export function mergeConfigLayer<T>(base: T, override: unknown, source: string, options: MergeOptions = {}): MergedLayer<T> {
  const openKeys = options.openKeys ?? DEFAULT_OPEN;
  const optional = options.optional ?? OPTIONAL_KEYS;
  const problems: string[] = [];
  const paths: string[] = [];
  const isOptional = (path: string): boolean => [...optional].some((o) => path === o || path.endsWith(`.${o}`));
  const optionalHere = (path: string): string[] => [...optional].flatMap((o) => {
    const dot = o.lastIndexOf('.');
    const section = o.slice(0, dot);
    return path === section || path.endsWith(`.${section}`) ? [o.slice(dot + 1)] : [];
  });
  const reserved = (v: unknown, path: string): boolean => {
    if (!isPlainObject(v)) return false;
    let found = false;
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      if (isReservedKey(k)) {
        problems.push(`${source}: "${p}" is not a setting (a reserved name)`);
        found = true;
      } else if (reserved(x, p)) found = true;
    }
    return found;
  };
  const record = (v: unknown, path: string): void => {
    if (isPlainObject(v) && Object.keys(v).length) for (const [k, x] of Object.entries(v)) record(x, `${path}.${k}`);
    else paths.push(path);
  };
  const walk = (b: unknown, o: unknown, path: string, open: boolean): unknown => {
    if (o === undefined) return b;
    if (o === null && isOptional(path)) {
      paths.push(path);
      return undefined;
    }
    if (isPlainObject(b) && !isPlainObject(o)) {
      problems.push(`${source}: "${path}" must be an object, got ${JSON.stringify(o)}`);
      return b;
    }
    if (!isPlainObject(o)) {
      paths.push(path);
      return o;
    }
    if (!isPlainObject(b)) {
      if (b !== undefined && b !== null) {
        problems.push(`${source}: "${path}" must be a ${Array.isArray(b) ? 'list' : typeof b}, got an object`);
        return b;
      }
      record(o, path);
      return own(Object.entries(o));
    }
    const out = own(Object.entries(b));
    const leaf = path.split('.').pop() ?? '';
    const free = open || openKeys.includes(leaf);
    for (const [k, v] of Object.entries(o)) {
      const p = path ? `${path}.${k}` : k;
      if (!free && !Object.hasOwn(out, k) && !isOptional(p) && !openKeys.includes(k)) {
        const known = [...new Set([...Object.keys(out), ...optionalHere(path)])];
        const meant = didYouMean(k, known);
        problems.push(`${source}: unknown key "${p}"${meant === undefined ? ` (known keys here: ${known.join(', ')})` : ` (did you mean "${path ? `${path}.` : ''}${meant}"?)`}`);
        continue;
      }
      const merged = walk(out[k], v, p, free);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  };
  if (reserved(override, '')) return { config: base, problems, paths };
  return { config: walk(base, override, '', false) as T, problems, paths };
}

/**
 * Merges `override` into `base` (see {@link mergeConfigLayer}); throws a ConfigError listing every problem.
 * The last argument is the open sections (`['model', 'world']` by default) or the full options.
 */
export function mergeConfig<T>(base: T, override: unknown, source: string, options: readonly string[] | MergeOptions = {}): T {
  const layer = mergeConfigLayer(base, override, source, Array.isArray(options) ? { openKeys: options as readonly string[] } : (options as MergeOptions));
  if (layer.problems.length === 1) throw new ConfigError(layer.problems[0]!);
  if (layer.problems.length) throw new ConfigError(`${layer.problems.length} problems in the settings:\n  - ${layer.problems.join('\n  - ')}`);
  return layer.config;
}
