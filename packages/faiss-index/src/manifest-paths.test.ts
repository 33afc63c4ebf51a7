import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassageIndex, PassageIndexError } from './index.js';

test('an index manifest may not name files outside its directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fidkd-manifest-paths-'));
  try {
    const index = PassageIndex.create({ dimension: 4 });
    index.add(['a', 'b'], Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0]));
    index.save(join(dir, 'index'));
    const file = join(dir, 'index', 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { files: { faiss: string; ids: string } };
    for (const evil of ['../../etc/passwd', '/etc/passwd', '..']) {
      writeFileSync(file, JSON.stringify({ ...manifest, files: { ...manifest.files, ids: evil } }));
      expect(() => PassageIndex.load(join(dir, 'index'))).toThrow(PassageIndexError);
      expect(() => PassageIndex.load(join(dir, 'index'))).toThrow(/field "files" names .*; an index's files must be plain names inside/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
