// Runs the `fidkd` command line in a child process, from the TypeScript sources (the orchestrator's test module
// hooks resolve `@fidkd/*` to src), so that tests meet exit codes, stderr and SIGKILLs as a user does.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
export const ROOT = join(here, '..', '..', '..', '..');
const CLI = join(here, 'fidkd-src.ts');
const HOOKS = join(ROOT, 'packages', 'orchestrator', 'src', '__tests__', 'register-ts.mjs');
/** A demo config small enough for a whole run in a few seconds. */
export const TINY_DEMO = join(here, 'tiny-demo.json');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

export interface RunCliOptions {
  /** SIGKILL the child once this returns true (checked on every stderr line and every 5 ms). */
  killWhen?: (stderr: string) => boolean;
  /** Called with the child's pid once it started. */
  started?: (pid: number) => void;
  /** Environment of the child (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** Runs `fidkd ...args`; resolves when the process ends (exit code, or the signal that ended it). */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', '--import', HOOKS, CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...(options.env ?? process.env), FIDKD_DEBUG: '' },
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const check = (): void => {
      if (!killed && options.killWhen?.(stderr)) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    const timer = options.killWhen ? setInterval(check, 5) : undefined;
    options.started?.(child.pid!);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      check();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stdout, stderr, pid: child.pid! });
    });
  });
}

/** Starts `fidkd ...args` without waiting for it (a server such as `fidkd serve`); the caller ends it. */
export function startCli(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--no-warnings', '--import', HOOKS, CLI, ...args], { stdio: 'pipe', env: { ...process.env, FIDKD_DEBUG: '' } });
}

/** `demo` on the tiny config into `out` (CPU backend), with extra arguments. */
export function tinyDemo(out: string, ...extra: string[]): Promise<CliRun> {
  return runCli(['demo', '--config', TINY_DEMO, '--out', out, '--backend', 'cpu', ...extra]);
}

/** What the CLI printed, for assertion messages. */
export function shown(r: CliRun): string {
  return `exit ${r.code ?? r.signal}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout}`;
}

/** A test's expectations of a bad-input run: exit 2, a message without stack trace or "internal error". */
export function isInputError(r: CliRun): boolean {
  return r.code === 2 && !/internal error|\n\s+at /.test(r.stderr);
}


/** A fresh scratch directory holding `reference`, an uninterrupted tiny demo run to compare with. */
export async function referenceRun(prefix: string): Promise<{ dir: string; ref: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const ref = join(dir, 'reference');
  const r = await tinyDemo(ref);
  if (r.code !== 0) throw new Error(`the reference tiny demo failed: ${shown(r)}`);
  return { dir, ref };
}
