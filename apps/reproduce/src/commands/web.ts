import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { intFlag } from '../config-files.js';
import { action, UserError } from '../ui/errors.js';
import { exportWeb, type ExportWebResult } from '../web-export/export.js';
import { serveSite } from '../web-export/serve.js';

/** The command that serves an exported site, as a user types it from the current directory. */
export function serveCommand(out: string): string {
  const rel = relative(process.cwd(), out);
  return `npx fidkd serve ${rel && !rel.startsWith('..') ? rel : out}`;
}

/** What export-web (and the demo) print about a written site. */
export function describeExport(r: ExportWebResult): string {
  const lines = [
    `web page of iteration ${r.iteration}: ${r.out} (${(r.bytes / 1e6).toFixed(1)} MB, ${r.questions} dev questions, ${r.passages} passages)`,
    ...r.notes.map((n) => `  note: ${n}`),
    `open it with: ${serveCommand(r.out)}   (or any static file server)`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `fidkd export-web RUN_DIR` and `fidkd serve DIR`. */
export function registerWebCommands(program: Command): void {
  program
    .command('export-web')
    .description('write a static web page of a run: metrics per iteration, each dev question\'s passages with the reader\'s scores G and their ranks, and a search box running the distilled retriever in the browser')
    .argument('<run-dir>', 'run directory of `fidkd demo` or `fidkd reproduce`')
    .option('--out <dir>', 'site directory (default <run-dir>/web)')
    .option('--iteration <t>', 'iteration whose retriever, passages Dᵗ, reader scores and answers are shown (default: the last)')
    .option('--embeddings <dtype>', 'passage embeddings as float32 (exact scores) or float16 (half the size)', 'float32')
    .action(action(async (runDir: string, opts: { out?: string; iteration?: string; embeddings: string }) => {
      if (opts.embeddings !== 'float32' && opts.embeddings !== 'float16') throw new UserError(`--embeddings ${opts.embeddings}: expected float32 or float16`);
      const r = await exportWeb(resolve(runDir), { out: opts.out, iteration: intFlag(opts.iteration, '--iteration', 0), embeddings: opts.embeddings });
      process.stdout.write(describeExport(r));
    }));
  program
    .command('serve')
    .description('serve an exported web page over HTTP (loopback only by default)')
    .argument('<dir>', 'site directory written by `fidkd export-web`')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on (default 127.0.0.1; 0.0.0.0 exposes the page to the network)', '127.0.0.1')
    .action(action(async (dir: string, opts: { port: string; host: string }) => {
      const port = intFlag(opts.port, '--port', 0)!;
      if (port > 65535) throw new UserError(`--port must be at most 65535 (got ${port})`);
      const site = await serveSite(dir, { host: opts.host, port });
      process.stdout.write(`serving ${resolve(dir)} at ${site.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          void site.close().then(done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    }));
}
