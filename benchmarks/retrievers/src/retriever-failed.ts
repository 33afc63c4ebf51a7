/**
 * A retriever's own code threw (its factory or its `retrieve`): the error says which retriever and where, and
 * keeps the original error (`cause`) for its stack trace (`--debug`).
 */
export class RetrieverFailedError extends Error {
  constructor(
    /** The retriever as the user named it (`--retriever` spec or label). */
    readonly retriever: string,
    /** Where it threw: 'its factory' or 'retrieve()'. */
    readonly phase: string,
    override readonly cause: unknown,
  ) {
    super(`retriever ${retriever} threw in ${phase}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'RetrieverFailedError';
  }
}

/** Runs `fn`, turning what it throws into a {@link RetrieverFailedError} of `retriever` in `phase`. */
export async function inRetriever<T>(retriever: string, phase: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new RetrieverFailedError(retriever, phase, err);
  }
}
