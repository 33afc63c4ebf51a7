// FLOP counts of one training step of the demo's tiny models, from their shapes, so that a step time becomes
// a rate comparable with sgemm. Only matrix products are counted (2 FLOP per multiply-add): the linear
// projections, attention's q·kᵀ and probs·v, and the LM head; norms, softmax, element-wise ops, lookups and the
// optimizer are left out (they are O(tokens·d) or O(params), not O(tokens·d²)). Backward costs two products
// per forward product (the gradient of each operand), hence step = 3 × forward.

/** Shapes of a FiD T5 reader step (encoder over questions·nContext passages, teacher-forced decoder). */
export interface ReaderStepShape {
  questions: number;
  nContext: number;
  textMaxlength: number;
  answerLength: number;
  vocabSize: number;
  dModel: number;
  numHeads: number;
  dKv: number;
  dFf: number;
  encoderLayers: number;
  decoderLayers: number;
}

/** Shapes of a BERT bi-encoder step (questions and their nContext passages through one shared encoder). */
export interface RetrieverStepShape {
  questions: number;
  questionLength: number;
  nContext: number;
  passageLength: number;
  hidden: number;
  layers: number;
  intermediate: number;
}

/**
 * Forward FLOP of one FiD T5 reader step. With Ne = B·n·L encoder tokens, Nd = B·T decoder tokens,
 * i = H·dkv, S = n·L cross-attended tokens per question:
 *   encoder layer  2·Ne·(4·d·i + 2·d·dff) + 4·Ne·L·i
 *   decoder layer  2·Nd·(4·d·i + 2·d·dff) + 4·Nd·T·i        (self-attention, cross q and o, feed-forward)
 *                + 4·Ne·d·i + 4·Nd·S·i                      (cross keys/values of the encoder output, attention)
 *   LM head        2·Nd·d·V
 */
export function readerForwardFlop(s: ReaderStepShape): number {
  const ne = s.questions * s.nContext * s.textMaxlength;
  const nd = s.questions * s.answerLength;
  const inner = s.numHeads * s.dKv;
  const block = (tokens: number): number => 2 * tokens * (4 * s.dModel * inner + 2 * s.dModel * s.dFf);
  const encoder = block(ne) + 4 * ne * s.textMaxlength * inner;
  const decoder = block(nd) + 4 * nd * s.answerLength * inner + 4 * ne * s.dModel * inner + 4 * nd * s.nContext * s.textMaxlength * inner;
  return s.encoderLayers * encoder + s.decoderLayers * decoder + 2 * nd * s.dModel * s.vocabSize;
}

/**
 * Forward FLOP of one bi-encoder step: per sequence of length L through each layer
 * 2·L·(4·h² + 2·h·ffn) + 4·L²·h, over B questions of Lq tokens and B·n passages of Lp tokens, plus the
 * scores 2·B·n·h.
 */
export function retrieverForwardFlop(s: RetrieverStepShape): number {
  const seq = (l: number): number => bertSequenceFlop(s, l);
  return s.questions * seq(s.questionLength) + s.questions * s.nContext * seq(s.passageLength) + 2 * s.questions * s.nContext * s.hidden;
}

/** Forward + backward: every product is followed by the two products of its operands' gradients. */
export function stepFlop(forwardFlop: number): number {
  return 3 * forwardFlop;
}

/** Forward FLOP of one sequence of `length` tokens through the BERT encoder: layers · [2·L·(4·h² + 2·h·ffn) + 4·L²·h]. */
export function bertSequenceFlop(s: Pick<RetrieverStepShape, 'layers' | 'hidden' | 'intermediate'>, length: number): number {
  return s.layers * (2 * length * (4 * s.hidden * s.hidden + 2 * s.hidden * s.intermediate) + 4 * length * length * s.hidden);
}
