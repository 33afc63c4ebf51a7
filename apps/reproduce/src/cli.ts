#!/usr/bin/env node
// The `fidkd` command line: the demo, the NQ/TriviaQA reproduction, and one command per stage.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')) as {
  version: string;
};

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fidkd')
    .description('Distilling knowledge from reader to retriever (Izacard & Grave, ICLR 2021)')
    .version(pkg.version, '-v, --version');
  return program;
}

const program = buildProgram();
if (process.argv.length <= 2) program.help();
await program.parseAsync(process.argv);
