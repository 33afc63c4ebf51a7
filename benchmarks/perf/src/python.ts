// Running the PyTorch reference scripts in python/: finds an interpreter that has torch (the Debian one,
// /usr/bin/python3, when a pyenv shim shadows it), runs a script and parses the JSON it prints last.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const candidates = (): string[] => [...(process.env['FIDKD_PYTHON'] ? [process.env['FIDKD_PYTHON']] : []), 'python3', '/usr/bin/python3'];

let found: { python: string; torch: string } | null | undefined;

/** The interpreter with torch and torch's version, or null when none has it (install: apt-get install python3-torch). */
export function findTorchPython(): { python: string; torch: string } | null {
  if (found !== undefined) return found;
  found = null;
  for (const py of candidates()) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) {
      found = { python: py, torch: r.stdout.trim() };
      break;
    }
  }
  return found;
}

/** Runs python/<script> with args; returns the parsed last stdout line. Throws with stderr on failure. */
export function runPythonJson<T>(script: string, args: string[]): T {
  const py = findTorchPython();
  if (!py) throw new Error('no python3 with torch found (install Debian python3-torch: apt-get install -y python3-torch, or set FIDKD_PYTHON)');
  const file = fileURLToPath(new URL(`../python/${script}`, import.meta.url));
  const r = spawnSync(py.python, [file, ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}
