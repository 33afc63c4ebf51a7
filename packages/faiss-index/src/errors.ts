/** Every error PassageIndex raises for bad input, a bad directory or an unsupported operation. */
export class PassageIndexError extends Error {
  override readonly name = 'PassageIndexError';
}
