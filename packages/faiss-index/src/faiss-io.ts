import { bufferSource } from './byte-source.js';
import { PassageIndexError } from './errors.js';
import { allNodes, parseFaissIndex, type FaissLayout } from './faiss-format.js';
import { faissIndexClass, type FaissIndex } from './faiss-node.js';

/**
 * Turns a serialized index back into a faiss-node index.
 *
 * faiss reads the flat tags `IxFI` / `IxF2` into the subclasses IndexFlatIP / IndexFlatL2. Their vtables are
 * inline, and faiss-node's addon (compiled by node-gyp with -fno-rtti) supplies copies without type information,
 * so faiss's own `dynamic_cast` in write_index / merge_from crashes the process on any index read back with such a
 * part (measured with faiss-node 0.5.1 built against libfaiss 1.7.3). The tags are rewritten to `IxFl` (plain
 * IndexFlat, whose vtable comes from libfaiss): the header already carries the metric and in faiss 1.7.3 the two
 * subclasses add no state or behaviour, so the index is the same. Files written later still say IxFI / IxF2
 * (write_index picks the tag from the metric).
 * @internal
 */
export function indexFromBuffer(buffer: Buffer, name: string, layout?: FaissLayout): FaissIndex {
  const parsed = layout ?? parseFaissIndex(bufferSource(buffer, name));
  for (const node of allNodes(parsed.root)) {
    if (node.fourcc === 'IxFI' || node.fourcc === 'IxF2') buffer.write('IxFl', node.offset, 'latin1');
  }
  try {
    return faissIndexClass().fromBuffer(buffer);
  } catch (err) {
    throw new PassageIndexError(`${name}: faiss cannot read this index: ${(err as Error).message}`);
  }
}
