import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';

/** A temporary name next to `file` (same directory, hence same filesystem, so rename is atomic). */
export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `data` to `file` atomically: temp file, then rename. A crash never leaves a half-written `file`. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Streams chunks produced by `produce` into `file` atomically (for outputs too large to build as one string).
 * `write` respects back-pressure.
 */
export async function streamToFileAtomic(
  file: string,
  produce: (write: (chunk: string | Uint8Array) => Promise<void>) => Promise<void>,
): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  const out = createWriteStream(tmp);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  try {
    const write = async (chunk: string | Uint8Array): Promise<void> => {
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
    };
    await produce(write);
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    await rename(tmp, file);
  } catch (err) {
    // The stream opens its file asynchronously: wait until it is closed, or the open may land after the rm and
    // leave the temp file behind.
    const closed = out.closed ? Promise.resolve() : once(out, 'close').then(() => undefined, () => undefined);
    out.destroy();
    await closed;
    await rm(tmp, { force: true });
    throw err;
  }
}
