// The `fidkd` command from the TypeScript sources, as bin/fidkd.js runs it from dist: tests spawn this file.
import { main } from '../cli.js';

await main(process.argv);
