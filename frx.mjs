import * as tf from '@tensorflow/tfjs';
import { FiDReader } from './packages/fid-reader/dist/index.js';
await tf.setBackend('cpu');
const reader = FiDReader.create({ vocab_size: 64, d_model: 32, d_kv: 8, num_heads: 4, d_ff: 64, num_layers: 2, dropout_rate: 0 }, { seed: 0 });
const batch = { inputIds: Int32Array.from([5, 9, 12, 30, 1, 0, 5, 9, 40, 41, 42, 1]), attentionMask: Int32Array.from([1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]), batchSize: 1, nContext: 2, textMaxlength: 6, labels: Int32Array.from([7, 1]), answerLength: 2 };
console.log(reader.loss(batch));
