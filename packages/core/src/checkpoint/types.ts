/** Element types a checkpoint tensor can hold (safetensors names). */
export type DType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** The typed array a dtype decodes to. F16/BF16 are widened to Float32Array, I64 to BigInt64Array. */
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Int16Array | Int8Array | Uint8Array;

/** One named tensor read from (or to be written to) a checkpoint. `data` is row-major (C order). */
export interface NamedTensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

/** An ordered name → tensor map, as a state dict is. */
export type StateDict = Map<string, NamedTensor>;

/** A checkpoint directory as loaded: HF `config.json` plus the weights of whichever weight file it holds. */
export interface LoadedCheckpoint {
  dir: string;
  /** Parsed `config.json` (an empty object when the directory has none). */
  config: Record<string, unknown>;
  /** The weight file actually read (`model.safetensors` preferred over `pytorch_model.bin`). */
  weightsFile: string;
  tensors: StateDict;
}
