#!/usr/bin/env node
// The `fidkd-bench-retrievers` command. A plain file outside dist/ so that npm links it at install time, before
// any build, and it runs main() whatever path it is started by (npm's node_modules/.bin entry is a symlink).
import { main } from '../dist/cli.js';

await main(process.argv);
