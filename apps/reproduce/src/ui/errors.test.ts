import { jest } from '@jest/globals';
import { reportError, UserError } from './errors.js';

/** reportError's exit code and what it printed. */
function report(err: unknown, debug = false): { code: number; stderr: string } {
  let stderr = '';
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  try {
    return { code: reportError(err, debug), stderr };
  } finally {
    spy.mockRestore();
  }
}

const fsError = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: ${message}`), { code });

test('a full disk, a quota, a read-only disk or a path that exists as a file is the machine\'s problem: exit 2 with what to do', () => {
  for (const [code, hint] of [
    ['ENOSPC', /the disk is full: free space .* then rerun the same command: it resumes/],
    ['EDQUOT', /quota/],
    ['EROFS', /read-only/],
    ['EEXIST', /exists already/],
  ] as const) {
    const r = report(fsError(code, 'no space left on device, write'));
    expect({ code, exit: r.code, stderr: r.stderr }).toEqual({ code, exit: 2, stderr: expect.stringMatching(hint) });
    expect(r.stderr).not.toMatch(/internal error/);
  }
});

test('a library error wrapping a full disk gets the same hint', () => {
  const wrapped = Object.assign(new Error('/run/iter-0/train-reader.ckpt/x.safetensors: cannot write: ENOSPC: no space left on device, write'), { name: 'CheckpointError' });
  expect(report(wrapped)).toEqual({ code: 2, stderr: expect.stringMatching(/cannot write: ENOSPC[^]*hint: the disk is full/) });
});

test('a bug stays an internal error (exit 1, the stack with --debug); a UserError keeps its own hint', () => {
  const bug = report(new TypeError('x is undefined'));
  expect(bug.code).toBe(1);
  expect(bug.stderr).toMatch(/internal error: rerun with --debug/);
  expect(report(new TypeError('x is undefined'), true).stderr).toMatch(/TypeError: x is undefined\n\s+at /);
  const user = report(new UserError('bad', 'do this'));
  expect(user).toEqual({ code: 2, stderr: 'fidkd: error: bad\n  hint: do this\n' });
});
