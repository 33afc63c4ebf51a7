// The runnable examples of a README, as the packaging test reads them. A README marks each with an HTML comment
// (invisible on npm and GitHub) before the code block; the first ```text block after the code, if any, is what it
// prints, one line per line, `…` standing for any text within a line (a ```json block is a file the examples
// after it read: written, not run):
//
//   <!-- example: example.ts -->
//   ```ts
//   console.log(1 + 1);
//   ```
//   It prints:
//   ```text
//   2
//   ```

/** One marked example: the file name it is written to, its code and the lines it is said to print. */
export interface ReadmeExample {
  file: string;
  code: string;
  prints?: string[];
}

const MARKER = /^<!-- example: (\S+) -->$/;

/** Every marked example of a README, in order. */
export function readmeExamples(readme: string): ReadmeExample[] {
  const lines = readme.split('\n');
  const out: ReadmeExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i]!.trim());
    if (!m) continue;
    const code = fencedBlock(lines, i + 1, /^```(ts|js|sh|json)$/);
    if (!code) throw new Error(`README line ${i + 1}: marker "${lines[i]}" is not followed by a \`\`\`ts, js, sh or json block`);
    // The output block belongs to this example if it comes before the next marker or heading.
    let prints: string[] | undefined;
    for (let j = code.end + 1; j < lines.length && !MARKER.test(lines[j]!.trim()) && !lines[j]!.startsWith('#'); j++) {
      if (lines[j]!.startsWith('```')) {
        prints = lines[j] === '```text' ? fencedBlock(lines, j, /^```text$/)?.body : undefined;
        break;
      }
    }
    out.push({ file: m[1]!, code: code.body.join('\n') + '\n', prints });
  }
  return out;
}

function fencedBlock(lines: string[], from: number, open: RegExp): { body: string[]; end: number } | undefined {
  let start = from;
  while (start < lines.length && lines[start]!.trim() === '') start++;
  if (start >= lines.length || !open.test(lines[start]!)) return undefined;
  const end = lines.indexOf('```', start + 1);
  if (end < 0) return undefined;
  return { body: lines.slice(start + 1, end), end };
}

/**
 * Compares what a program printed with what its README says: same number of lines (trailing blank lines and
 * trailing spaces ignored), each line equal, `…` matching any run of characters. Returns the first difference.
 */
export function compareOutput(actual: string, expected: string[]): string | undefined {
  const trim = (ls: string[]) => {
    const t = ls.map((l) => l.trimEnd());
    while (t.length > 0 && t[t.length - 1] === '') t.pop();
    return t;
  };
  const got = trim(actual.split('\n'));
  const want = trim(expected);
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    const w = want[i];
    const g = got[i];
    if (w === undefined) return `line ${i + 1}: printed "${g}", the README shows no more lines`;
    if (g === undefined) return `line ${i + 1}: the README shows "${w}", nothing more was printed`;
    const pattern = new RegExp(`^${w.split('…').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    if (!pattern.test(g)) return `line ${i + 1}: printed "${g}", the README shows "${w}"`;
  }
  return undefined;
}
