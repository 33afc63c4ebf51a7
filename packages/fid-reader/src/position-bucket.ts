/**
 * T5 relative position buckets (HF `T5Attention._relative_position_bucket`), computed in JS once per
 * (query length, key length) and cached: they are integers, so no tensor work is needed.
 * The log-spaced part is evaluated with float32 rounding at each step as PyTorch does (`.float()`), so bucket
 * boundaries match HF exactly.
 */
const f = Math.fround;

/** Bucket of one relative position (key_pos − query_pos). */
export function relativePositionBucket(
  relativePosition: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): number {
  let buckets = 0;
  let nb = numBuckets;
  let rp = relativePosition;
  if (bidirectional) {
    nb = Math.floor(nb / 2);
    if (rp > 0) buckets += nb;
    rp = Math.abs(rp);
  } else {
    rp = -Math.min(rp, 0);
  }
  const maxExact = Math.floor(nb / 2);
  if (rp < maxExact) return buckets + rp;
  const ratio = f(f(rp) / maxExact);
  const logRatio = f(Math.log(ratio));
  const denom = f(Math.log(maxDistance / maxExact));
  let large = maxExact + Math.trunc(f(f(logRatio / denom) * (nb - maxExact)));
  large = Math.min(large, nb - 1);
  return buckets + large;
}

const cache = new Map<string, Int32Array>();

/**
 * Bucket table [queryLength, keyLength] (row-major) for query positions `offset..offset+queryLength-1`
 * against key positions `0..keyLength-1`.
 */
export function bucketTable(
  queryLength: number,
  keyLength: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
  offset = 0,
): Int32Array {
  const key = `${queryLength},${keyLength},${bidirectional},${numBuckets},${maxDistance},${offset}`;
  let t = cache.get(key);
  if (!t) {
    t = new Int32Array(queryLength * keyLength);
    for (let i = 0; i < queryLength; i++) {
      for (let j = 0; j < keyLength; j++) {
        t[i * keyLength + j] = relativePositionBucket(j - (i + offset), bidirectional, numBuckets, maxDistance);
      }
    }
    if (cache.size > 256) cache.clear();
    cache.set(key, t);
  }
  return t;
}
