// Set-up step: a software Vulkan driver, so that the webgpu backend (Dawn's Node binding, npm `webgpu`) finds an
// adapter on a machine without a GPU (CI, development machines) and its tests run. Dawn accepts Mesa's lavapipe
// (the `llvmpipe` adapter) only from Mesa 24; Debian bookworm's own 22.3 is refused ("shaderUniform*ArrayDynamic
// Indexing required"), so on bookworm `mesa-vulkan-drivers` comes from the bookworm-backports suite (25.x), which
// this step adds as an apt source when no source lists it yet. Idempotent: nothing is done when Mesa ≥ 24 is
// installed. Not root: prints the commands instead (the webgpu tests then fail naming them).
// Kept in its own module so that other set-up steps can change scripts/setup.mjs without touching this one.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MESA_MIN_MAJOR = 24;
const PACKAGE = 'mesa-vulkan-drivers';
const SOURCES_DIR = '/etc/apt/sources.list.d';
const BACKPORTS_FILE = join(SOURCES_DIR, 'fidkd-bookworm-backports.sources');

/** Installed version of mesa-vulkan-drivers ('25.0.7-2~bpo12+1'), or null. */
export function installedMesaVulkan() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}\t${Version}', PACKAGE], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.startsWith('install ok installed')) return null;
  return r.stdout.split('\t')[1] ?? null;
}

/** Major version of a Debian version string ('1:25.0.7-2' → 25). */
export function majorOf(version) {
  const m = /^(?:\d+:)?(\d+)/.exec(version ?? '');
  return m ? Number(m[1]) : 0;
}

function osRelease() {
  try {
    return Object.fromEntries(readFileSync('/etc/os-release', 'utf8').split('\n').filter((l) => l.includes('='))
      .map((l) => { const i = l.indexOf('='); return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, '')]; }));
  } catch {
    return {};
  }
}

function aptListsSuite(suite) {
  const files = ['/etc/apt/sources.list', ...(existsSync(SOURCES_DIR) ? readdirSync(SOURCES_DIR).map((f) => join(SOURCES_DIR, f)) : [])];
  return files.some((f) => (f.endsWith('.list') || f.endsWith('.sources')) && existsSync(f) && readFileSync(f, 'utf8').split('\n')
    .some((l) => !l.trimStart().startsWith('#') && new RegExp(`(^|\\s)${suite}(\\s|$)`).test(l)));
}

/** The apt candidate version of the package for `-t suite` (or the default release), or null. */
function candidate(suite) {
  const r = spawnSync('apt-cache', ['policy', PACKAGE, ...(suite ? ['-t', suite] : [])], { encoding: 'utf8' });
  const m = /Candidate:\s*(\S+)/.exec(r.stdout ?? '');
  return m && m[1] !== '(none)' ? m[1] : null;
}

/**
 * Makes sure Mesa ≥ 24's Vulkan drivers are installed. `log(msg)` reports what was done; `run(cmd, args, opts)`
 * runs a command and throws on failure (setup.mjs's helpers).
 */
export function ensureMesaVulkan({ log, run }) {
  if (process.platform !== 'linux') return; // macOS: Metal; Windows: the GPU vendor's driver (README, Backends)
  const have = installedMesaVulkan();
  if (have && majorOf(have) >= MESA_MIN_MAJOR) return;
  const os = osRelease();
  const bookworm = os.ID === 'debian' && os.VERSION_CODENAME === 'bookworm';
  const suite = bookworm ? 'bookworm-backports' : null;
  const why = `software Vulkan for the webgpu backend's tests: ${PACKAGE} from Mesa >= ${MESA_MIN_MAJOR}${have ? ` (installed: ${have}, which Dawn refuses)` : ''}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!existsSync('/usr/bin/apt-get') || !isRoot) {
    const how = bookworm
      ? `add the bookworm-backports suite to apt (e.g. ${BACKPORTS_FILE}) and run: sudo apt-get update && sudo apt-get install -y -t bookworm-backports ${PACKAGE}`
      : `install ${PACKAGE} (Mesa >= ${MESA_MIN_MAJOR}) from your distribution`;
    log(`skipped ${why}: ${existsSync('/usr/bin/apt-get') ? 'not root' : 'no apt-get'}; ${how}`);
    return;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lockWait = ['-o', 'DPkg::Lock::Timeout=600']; // another apt run (a parallel set-up) holds the lock: wait
  if (bookworm && !aptListsSuite(suite)) {
    writeFileSync(BACKPORTS_FILE, [
      '# added by fidkd scripts/setup-mesa-vulkan.mjs: Mesa >= 24 (mesa-vulkan-drivers) for the webgpu backend\'s software adapter',
      'Types: deb',
      'URIs: http://deb.debian.org/debian',
      `Suites: ${suite}`,
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
    ].join('\n'));
    log(`added the apt source ${BACKPORTS_FILE} (${suite})`);
  }
  log(`installing ${why}${suite ? ` from ${suite}` : ''}`);
  // Only the webgpu tests need it: a failed install (no network, a broken mirror) is reported and set-up goes on;
  // those tests then fail naming what to install, and everything else still runs.
  try {
    run('apt-get', [...lockWait, 'update', '-qq'], { env });
    const offered = candidate(suite);
    if (!offered || majorOf(offered) < MESA_MIN_MAJOR) {
      log(`skipped ${why}: apt offers ${offered ?? 'no version'}; install Mesa >= ${MESA_MIN_MAJOR} by hand for the webgpu tests`);
      return;
    }
    run('apt-get', [...lockWait, 'install', '-y', '-qq', '--no-install-recommends', ...(suite ? ['-t', suite] : []), PACKAGE], { env });
  } catch (err) {
    log(`could not install ${why}: ${err instanceof Error ? err.message : err}; the webgpu tests will fail until it is installed (apt-get install${suite ? ` -t ${suite}` : ''} ${PACKAGE})`);
    return;
  }
  log(`installed ${PACKAGE} ${installedMesaVulkan()}`);
}
