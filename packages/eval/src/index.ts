// @fidkd/eval: SQuAD answer normalisation, exact match, DPR SimpleTokenizer and has_answer, top-k accuracy, MRR, TREC runs, BLEU/ROUGE.
export {};
