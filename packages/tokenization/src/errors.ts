/** An error about a tokenizer file or tokenizer input, naming the file or record. */
export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}
