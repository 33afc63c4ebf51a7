// The `fidkd` command line: the demo, the NQ/TriviaQA reproduction, one command per stage, parity, and the web page
// of a run (export-web, serve).
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { registerDemo } from './commands/demo.js';
import { registerParity } from './commands/parity.js';
import { registerPretrainReader } from './commands/pretrain-reader.js';
import { registerReproduce } from './commands/reproduce.js';
import { registerStageCommands } from './commands/stages.js';
import { registerStatus } from './jobs/status.js';
import { registerWorker } from './jobs/worker.js';
import { registerWebCommands } from './commands/web.js';

const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')) as {
  version: string;
};

/** Builds the `fidkd` program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fidkd')
    .description('Distilling knowledge from reader to retriever (Izacard & Grave, ICLR 2021)')
    .version(pkg.version, '-v, --version')
    .option('--debug', 'print stack traces of internal errors')
    .showHelpAfterError('(run with --help for usage)')
    // a usage error (unknown option, missing argument) is bad input: status 2 like every other; help and
    // --version keep 0 (set before the commands are added, which inherit it)
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  registerDemo(program);
  registerReproduce(program);
  registerStageCommands(program);
  registerParity(program);
  registerPretrainReader(program);
  registerStatus(program);
  registerWorker(program);
  registerWebCommands(program);
  return program;
}

/**
 * Runs the `fidkd` command on `argv` (process.argv layout). The bin file `bin/fidkd.js` calls it, so the command
 * works through whatever path npm links (a symlink in node_modules/.bin), unlike an "am I the entry module" check.
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram();
  if (argv.length <= 2) program.help();
  await program.parseAsync(argv);
}
