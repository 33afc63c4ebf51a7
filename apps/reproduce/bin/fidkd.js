#!/usr/bin/env node
// The `fidkd` command. A plain file outside dist/ so that npm links it at install time, before any build, and it
// runs main() whatever path it is started by (npm's node_modules/.bin entry is a symlink to it).
import { main } from '../dist/cli.js';

await main(process.argv);
