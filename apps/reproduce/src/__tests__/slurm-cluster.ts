// A one-node Slurm cluster for the tests, private to one test run: its own munge key and socket, slurm.conf, free
// ports, state, spool and logs under a temp dir. Starts munged, slurmctld and slurmd in the foreground as children
// and stops exactly those processes, by pid. Two test runs on one machine get two clusters that do not meet.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './run-cli.js';

export interface SlurmCluster {
  dir: string;
  /** The environment a Slurm client needs to reach this cluster (SLURM_CONF). */
  env: NodeJS.ProcessEnv;
  node: string;
  /** Runs a Slurm client command against this cluster. */
  client(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

const DAEMONS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo'];

function onPath(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' });
  return (r.error as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function until(what: string, test: () => boolean, seconds: number, log: () => string): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!test()) {
    if (Date.now() > end) throw new Error(`test Slurm cluster: ${what} did not happen within ${seconds} s\n${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Installs the packages when missing (as root, via scripts/setup-slurm.mjs), then starts the cluster. */
export async function startSlurmCluster(): Promise<SlurmCluster> {
  if (DAEMONS.some((d) => !onPath(d))) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'setup-slurm.mjs')], { encoding: 'utf8' });
    const missing = DAEMONS.filter((d) => !onPath(d));
    if (missing.length) throw new Error(`the Slurm tests need ${missing.join(', ')} (Debian: apt-get install slurmctld slurmd slurm-client munge)\n${r.stderr}`);
  }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error('the Slurm tests start munged, slurmctld and slurmd of their own: run them as root');
  }
  const dir = mkdtempSync(join(tmpdir(), 'fidkd-slurm-'));
  // munged wants every directory above its socket searchable and its key private
  chmodSync(dir, 0o711);
  for (const d of ['munge', 'state', 'spool', 'log']) mkdirSync(join(dir, d), { mode: 0o711 });
  writeFileSync(join(dir, 'munge', 'munge.key'), randomBytes(1024), { mode: 0o600 });
  const socket = join(dir, 'munge', 'munge.socket');
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const tag = randomBytes(3).toString('hex');
  const node = `fidkd${tag}`;
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, [
    `ClusterName=fidkd${tag}`,
    'SlurmctldHost=localhost(127.0.0.1)',
    `SlurmctldPort=${ctldPort}`,
    `SlurmdPort=${dPort}`,
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${socket}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
    `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    // dependent jobs start within a second of their dependency's end
    'SchedulerType=sched/builtin',
    'SchedulerParameters=batch_sched_delay=0,sched_interval=1',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'ReturnToService=2',
    'MpiDefault=none',
    'JobCompType=jobcomp/none',
    'AccountingStorageType=accounting_storage/none',
    'KillWait=5',
    `NodeName=${node} NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=${cpus().length} RealMemory=${Math.floor((totalmem() / 2 ** 20) * 0.9)} State=UNKNOWN`,
    `PartitionName=test Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n'));
  const env = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const out = join(dir, 'log', 'daemons.out');
  const start = (cmd: string, args: string[]): void => {
    const fd = ['ignore', 'ignore', 'ignore'] as const;
    const child = spawn(cmd, args, { env, stdio: [...fd] });
    child.on('error', (err) => writeFileSync(out, `${cmd}: ${err.message}\n`, { flag: 'a' }));
    children.push(child);
  };
  const logs = (): string => ['slurmctld.log', 'slurmd.log', 'munged.log'].map((f) => {
    const p = join(dir, 'log', f);
    return existsSync(p) ? `--- ${f}\n${readFileSync(p, 'utf8').split('\n').slice(-15).join('\n')}` : '';
  }).join('\n');
  const kill = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  };
  process.once('exit', kill);
  const client = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  try {
    start('munged', ['-F', `--key-file=${join(dir, 'munge', 'munge.key')}`, `--socket=${socket}`, `--pid-file=${join(dir, 'munge', 'munged.pid')}`,
      `--log-file=${join(dir, 'log', 'munged.log')}`, `--seed-file=${join(dir, 'munge', 'munged.seed')}`]);
    await until('munged socket', () => existsSync(socket), 30, logs);
    start('slurmctld', ['-D', '-i']);
    start('slurmd', ['-D', '-N', node]);
    await until(`node ${node} idle`, () => /idle/.test(client('sinfo', ['-h', '-o', '%t', '-n', node]).stdout), 60, logs);
  } catch (err) {
    kill();
    throw err;
  }
  return {
    dir, env, node, client,
    async stop() {
      // the jobs end first (their slurmstepd is no child of ours), then the daemons
      client('scancel', ['--user=root']);
      for (let i = 0; i < 150 && client('squeue', ['-h']).stdout.trim(); i++) await new Promise((r) => setTimeout(r, 200));
      // slurmd first, so that no job step is left behind, then the controller, then munge
      for (const c of [...children].reverse()) {
        if (c.exitCode !== null || c.signalCode !== null) continue;
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }
      process.off('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
