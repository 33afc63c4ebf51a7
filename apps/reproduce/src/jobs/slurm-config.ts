// The `slurm` section of a demo / reproduce config file: the resources of each kind of job and how the driver
// waits. It says how the stages run, not what they compute, so it never enters a stage's skip key.
import { readFileSync } from 'node:fs';
import { mergeConfigLayer, STAGE_NAMES } from '@fidkd/orchestrator';
import { refuseProblems, setOverride } from '../config-files.js';
import { UserError } from '../ui/errors.js';

/** sbatch resources of a job. */
export interface SlurmResources {
  /** `--partition`. */
  partition?: string;
  /** `--gres`, e.g. "gpu:1". */
  gres?: string;
  /** `--cpus-per-task`; also the job's OMP_NUM_THREADS / OPENBLAS_NUM_THREADS unless set. */
  cpus?: number;
  /** `--mem`, e.g. "32G". */
  mem?: string;
  /** `--time`, e.g. "04:00:00" or "1-12:00:00". */
  time?: string;
  /** Any other sbatch flags, e.g. ["--account=nlp", "--qos=high", "--constraint=a100"]. */
  extra?: string[];
  /** Shell lines these jobs run after the section's `setup` (e.g. `module load cuda` for the GPU stages only). */
  setup?: string[];
}

export interface SlurmConfig extends SlurmResources {
  /** Shell lines every job runs before fidkd (`module load nodejs/20`, `source venv/bin/activate` …). */
  setup: string[];
  /** Seconds between two looks at the queue while the driver waits. */
  poll_seconds: number;
  /** Most tasks of one array running at once (`--array=…%N`); 0: as many as the cluster gives. */
  max_array_tasks: number;
  /**
   * Resources per kind of job, over the ones above: a stage name (train-reader, score, train-retriever, embed,
   * index, retrieve, evaluate), `retrieve-merge` (the merge of a sharded retrieval), `prepare` (the demo's
   * synthetic world) or `report` (the detached run's last job).
   */
  stages: Partial<Record<string, SlurmResources>>;
}

export const JOB_KINDS = [...STAGE_NAMES, 'retrieve-merge', 'prepare', 'report'] as const;

export const SLURM_DEFAULTS: SlurmConfig = {
  partition: undefined, gres: undefined, cpus: undefined, mem: undefined, time: undefined, extra: undefined,
  setup: [], poll_seconds: 5, max_array_tasks: 0, stages: {},
};

const RESOURCE_KEYS = ['partition', 'gres', 'cpus', 'mem', 'time', 'extra', 'setup'] as const;
const SECTION_KEYS = [...RESOURCE_KEYS, 'poll_seconds', 'max_array_tasks', 'stages'] as const;
/**
 * Free-form for the merge, so that a file's `stages.embed: { gres }` can still take `--set
 * slurm.stages.embed.mem=64G`; slurmConfigProblems names any key that is not a resource.
 */
const OPEN_KEYS = ['stages', ...JOB_KINDS];

/** Every problem of a `slurm` section (keys as typed: `slurm.stages.embed.cpus`). */
export function slurmConfigProblems(c: SlurmConfig): string[] {
  const problems: string[] = [];
  const resources = (r: Record<string, unknown>, at: string): void => {
    const known: readonly string[] = at === 'slurm' ? SECTION_KEYS : RESOURCE_KEYS;
    for (const k of Object.keys(r)) {
      if (!known.includes(k)) problems.push(`${at}.${k}: unknown key (known: ${known.join(', ')})`);
    }
    const str = (k: string, re: RegExp, what: string): void => {
      if (r[k] !== undefined && (typeof r[k] !== 'string' || !re.test(r[k] as string))) problems.push(`${at}.${k} must be ${what} (got ${JSON.stringify(r[k])})`);
    };
    str('partition', /^[^\s,]+(,[^\s,]+)*$/, 'a partition name');
    str('gres', /^[A-Za-z0-9_:.,-]+$/, 'a gres such as "gpu:1"');
    str('mem', /^\d+[KMGT]?$/i, 'a memory size such as "32G"');
    str('time', /^(\d+-)?\d+(:\d+){0,2}$/, 'a time limit such as "04:00:00" or "1-12:00:00"');
    if (r.cpus !== undefined && (typeof r.cpus !== 'number' || !Number.isInteger(r.cpus) || r.cpus < 1)) problems.push(`${at}.cpus must be an integer ≥ 1 (got ${JSON.stringify(r.cpus)})`);
    if (at !== 'slurm' && r.setup !== undefined && (!Array.isArray(r.setup) || r.setup.some((l) => typeof l !== 'string'))) problems.push(`${at}.setup must be a list of shell lines (got ${JSON.stringify(r.setup)})`);
    if (r.extra !== undefined && (!Array.isArray(r.extra) || r.extra.some((x) => typeof x !== 'string' || !x.startsWith('-')))) {
      problems.push(`${at}.extra must be a list of sbatch flags such as ["--qos=high"] (got ${JSON.stringify(r.extra)})`);
    }
  };
  resources(c as unknown as Record<string, unknown>, 'slurm');
  if (!Array.isArray(c.setup) || c.setup.some((l) => typeof l !== 'string')) problems.push(`slurm.setup must be a list of shell lines (got ${JSON.stringify(c.setup)})`);
  if (typeof c.poll_seconds !== 'number' || !(c.poll_seconds > 0)) problems.push(`slurm.poll_seconds must be a positive number (got ${JSON.stringify(c.poll_seconds)})`);
  if (typeof c.max_array_tasks !== 'number' || !Number.isInteger(c.max_array_tasks) || c.max_array_tasks < 0) problems.push(`slurm.max_array_tasks must be an integer ≥ 0 (got ${JSON.stringify(c.max_array_tasks)})`);
  if (!c.stages || typeof c.stages !== 'object' || Array.isArray(c.stages)) problems.push('slurm.stages must be an object of job kinds');
  else {
    for (const [kind, r] of Object.entries(c.stages)) {
      if (!(JOB_KINDS as readonly string[]).includes(kind)) problems.push(`slurm.stages.${kind}: not a kind of job (known: ${JOB_KINDS.join(', ')})`);
      else if (!r || typeof r !== 'object' || Array.isArray(r)) problems.push(`slurm.stages.${kind} must be an object of resources`);
      else resources(r as Record<string, unknown>, `slurm.stages.${kind}`);
    }
  }
  return problems;
}

/** The resources of a kind of job: the section's defaults with the kind's own over them. */
export function resourcesOf(c: SlurmConfig, kind: string): SlurmResources {
  const base: SlurmResources = {};
  for (const k of RESOURCE_KEYS) if (k !== 'setup' && c[k] !== undefined) (base as Record<string, unknown>)[k] = c[k];
  return { ...base, ...(c.stages[kind] ?? {}) };
}

/**
 * The `slurm` section of a config file (absent: the defaults) with `--set slurm.…` overrides, every problem
 * collected (naming the file or flag); also returns the other `--set` flags, for the pipeline.
 */
export function slurmSettings(file: string | undefined, sets: string[] | undefined): { slurm: SlurmConfig; rest: string[]; problems: string[] } {
  let c = SLURM_DEFAULTS;
  const problems: string[] = [];
  const layer = (override: unknown, source: string): void => {
    const merged = mergeConfigLayer({ slurm: c }, override, source, { openKeys: OPEN_KEYS });
    problems.push(...merged.problems);
    if (!merged.problems.length) c = merged.config.slurm;
  };
  if (file) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      raw = undefined; // the config loader reports an unreadable file
    }
    const section = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).slurm : undefined;
    if (section !== undefined) layer({ slurm: section }, file);
  }
  const rest: string[] = [];
  for (const s of sets ?? []) {
    if (!s.startsWith('slurm.')) {
      rest.push(s);
      continue;
    }
    let override: Record<string, unknown>;
    try {
      override = setOverride(s);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      problems.push(err.message);
      continue;
    }
    layer(override, `--set ${s}`);
  }
  problems.push(...slurmConfigProblems(c));
  return { slurm: c, rest, problems };
}

/** {@link slurmSettings}, as a UserError listing every problem. */
export function resolveSlurmConfig(file: string | undefined, sets: string[] | undefined): { slurm: SlurmConfig; rest: string[] } {
  const { slurm, rest, problems } = slurmSettings(file, sets);
  refuseProblems(file ?? 'slurm settings', problems);
  return { slurm, rest };
}
