import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Random read access to a serialized faiss index, either in memory or in a file. The format walker reads
 * only headers and size prefixes through it, so a multi-gigabyte index file is checked without loading it.
 */
export interface ByteSource {
  /** Total length in bytes. */
  readonly length: number;
  /** Where the bytes come from (a file path or a description), for error messages. */
  readonly name: string;
  /** `n` bytes from `offset`; callers check bounds first. */
  bytes(offset: number, n: number): Uint8Array;
}

/** A ByteSource over bytes in memory (a Buffer or any Uint8Array; no copy). */
export function bufferSource(buffer: Uint8Array, name = 'faiss buffer'): ByteSource {
  return { length: buffer.length, name, bytes: (offset, n) => buffer.subarray(offset, offset + n) };
}

/** A ByteSource over a file read with positional reads; call `close()` when done. */
export function fileSource(path: string): ByteSource & { close(): void } {
  const fd = openSync(path, 'r');
  const length = fstatSync(fd).size;
  return {
    length,
    name: path,
    bytes(offset, n) {
      const out = Buffer.alloc(n);
      let done = 0;
      while (done < n) {
        const r = readSync(fd, out, done, n - done, offset + done);
        if (r === 0) break;
        done += r;
      }
      return out;
    },
    close: () => closeSync(fd),
  };
}

/**
 * `n` bytes of `src` as a Buffer (for its little-endian readers), sharing memory. Public types say Uint8Array so
 * that the package's declarations need no @types/node.
 * @internal
 */
export function nodeBytes(src: ByteSource, offset: number, n: number): Buffer {
  const b = src.bytes(offset, n);
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
