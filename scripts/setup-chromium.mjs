// Set-up step for the browser tests of the web page (`fidkd export-web`): Debian's `chromium`, which
// playwright-core drives at /usr/bin/chromium (no browser download). Installed with apt when missing and root;
// otherwise the step says what to run, and the browser suite fails naming it. Its own module, so that other
// set-up steps can change without touching it.
import { existsSync } from 'node:fs';

/** Where the tests expect the browser (override with FIDKD_CHROMIUM). */
export const CHROMIUM = process.env.FIDKD_CHROMIUM || '/usr/bin/chromium';

/**
 * Installs Debian's chromium when it is missing. `run(cmd, args, opts)` runs a command and throws on failure;
 * `log(msg)` prints a set-up line.
 */
export function ensureChromium({ run, log }) {
  if (existsSync(CHROMIUM)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get') || !isRoot) {
    log(`${CHROMIUM} is missing: the web page's browser tests need it (Debian: sudo apt-get install -y chromium; elsewhere set FIDKD_CHROMIUM to a Chromium binary)`);
    return;
  }
  log('installing Debian package chromium (for the web page tests)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { env });
}
