// `--name value` options of the harness's small command-line tools.

/** The value after `--name` in argv, or `dflt`. */
export function option(argv: readonly string[], name: string, dflt: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
}
