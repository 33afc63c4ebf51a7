import { compareOutput, readmeExamples } from './readme-example.js';

const README = [
  '# pkg', '', '<!-- example: example.ts -->', '```ts', "console.log('a b');", '```', '', 'It prints:', '', '```text', 'a …', '```',
  '', '<!-- example: run.sh -->', '```sh', 'node example.js', '```', '', '## API', '```text', 'not an output block', '```', '',
].join('\n');

test('marked examples are found with the output block that follows them in their section', () => {
  expect(readmeExamples(README)).toEqual([
    { file: 'example.ts', code: "console.log('a b');\n", prints: ['a …'] },
    { file: 'run.sh', code: 'node example.js\n', prints: undefined },
  ]);
  expect(() => readmeExamples('<!-- example: x.ts -->\ntext\n')).toThrow(/not followed by a ```ts, js, sh or json block/);
  expect(readmeExamples('<!-- example: c.json -->\n```json\n{ "a": 1 }\n```\n')).toEqual([{ file: 'c.json', code: '{ "a": 1 }\n', prints: undefined }]);
});

test('output comparison: line by line, … matches any text, trailing blanks ignored', () => {
  expect(compareOutput('a b\n\n', ['a …'])).toBeUndefined();
  expect(compareOutput('a b\nc\n', ['a …'])).toBe('line 2: printed "c", the README shows no more lines');
  expect(compareOutput('x b\n', ['a …'])).toBe('line 1: printed "x b", the README shows "a …"');
  expect(compareOutput('', ['a'])).toBe('line 1: the README shows "a", nothing more was printed');
  expect(compareOutput('1.5 (x)\n', ['1.5 (…)'])).toBeUndefined(); // regex characters are literal
  expect(compareOutput('105 (x)\n', ['1.5 (…)'])).toBeDefined();
});
