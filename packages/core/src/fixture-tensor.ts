/**
 * The `{dims, shape, dtype, data}` JSON tensor layout of the oracle fixtures (inputs.json / expected.json) and
 * of `fidkd parity` outputs: `data` is flat row-major, `dims` names every axis.
 */
export interface FixtureTensor {
  dims: string[];
  shape: number[];
  dtype: 'float64' | 'float32' | 'int64' | 'int32' | 'bool';
  data: number[] | boolean[];
}

export function isFixtureTensor(v: unknown): v is FixtureTensor {
  return typeof v === 'object' && v !== null && Array.isArray((v as FixtureTensor).shape) && Array.isArray((v as FixtureTensor).data);
}

/** Builds a fixture tensor; checks that `data` has as many elements as `shape` says. */
export function fixtureTensor(
  data: ArrayLike<number>,
  shape: number[],
  dims: string[],
  dtype: FixtureTensor['dtype'] = 'float64',
): FixtureTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new Error(`fixtureTensor: ${data.length} values for shape [${shape.join(', ')}]`);
  if (dims.length !== shape.length) throw new Error(`fixtureTensor: ${dims.length} dim names for ${shape.length} axes`);
  return { dims, shape, dtype, data: Array.from(data, Number) };
}

/** Reads a fixture tensor's data as numbers (bools become 0/1), checking its shape when one is given. */
export function fixtureData(t: FixtureTensor, name = 'tensor', shape?: number[]): number[] {
  if (shape && (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))) {
    throw new Error(`${name}: expected shape [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
  }
  return (t.data as Array<number | boolean>).map(Number);
}
