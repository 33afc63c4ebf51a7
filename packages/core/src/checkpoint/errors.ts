/** A checkpoint file that cannot be read: truncated, malformed, unsafe, or of an unsupported kind. */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}
