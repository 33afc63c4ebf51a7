import * as tf from '@tensorflow/tfjs';

/**
 * Sums the gradients of several micro-batches (FiD `--accumulation_steps`) and hands out their mean, which is
 * what PyTorch accumulates when each micro-batch loss is divided by the number of micro-batches. Holds one
 * running sum per variable; inputs are read, not taken (the caller disposes its gradients after `add`).
 */
export class GradientAccumulator {
  private readonly sums = new Map<string, tf.Tensor>();
  private n = 0;

  /** Micro-batches added since the last reset. */
  get count(): number {
    return this.n;
  }

  /** Adds one micro-batch's gradients (a variable missing from a micro-batch counts as a zero gradient). */
  add(grads: Map<string, tf.Tensor>): void {
    for (const [name, g] of grads) {
      const prev = this.sums.get(name);
      if (prev && !tf.util.arraysEqual(prev.shape, g.shape)) {
        throw new Error(`GradientAccumulator: gradient of '${name}' has shape [${g.shape}], earlier ones [${prev.shape}]`);
      }
      const next = tf.keep(prev ? prev.add(g) : g.clone());
      prev?.dispose();
      this.sums.set(name, next);
    }
    this.n += 1;
  }

  /** The sum of the gradients added (new tensors, owned by the caller). */
  sum(): Map<string, tf.Tensor> {
    return new Map([...this.sums].map(([k, s]) => [k, s.clone()]));
  }

  /** The mean over the micro-batches added (new tensors, owned by the caller). */
  mean(): Map<string, tf.Tensor> {
    if (this.n === 0) throw new Error('GradientAccumulator: no gradients added');
    const n = this.n;
    return new Map([...this.sums].map(([k, s]) => [k, tf.tidy(() => s.div(n))]));
  }

  /** Drops the running sums (after the optimizer step). */
  reset(): void {
    for (const s of this.sums.values()) s.dispose();
    this.sums.clear();
    this.n = 0;
  }

  /** Same as {@link reset}: frees every tensor held. */
  dispose(): void {
    this.reset();
  }
}
