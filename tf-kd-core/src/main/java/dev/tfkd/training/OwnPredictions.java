package dev.tfkd.training;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * The model's own logits per training example, for self-distillation ({@link Objective#usesOwnPredictions()}):
 * what each step computed is recorded under the example's index, and at the end of the epoch the record becomes
 * what the next epoch is fed. Two buffers, so that an epoch reads only the previous epoch's predictions. Not
 * thread-safe; owned by one training run.
 */
final class OwnPredictions {
  private final int k;
  private final Operand<TFloat32> logits;
  private float[] previous;
  private float[] current;

  OwnPredictions(int examples, int k, Operand<TFloat32> logits) {
    this.k = k;
    this.logits = logits;
    this.previous = new float[examples * k];
    this.current = new float[examples * k];
  }

  /** The training-mode logits to fetch each step. */
  Operand<TFloat32> logits() {
    return logits;
  }

  /** Last epoch's logits, {@code examples x K} (zeros before the first epoch ends). */
  float[] previous() {
    return previous;
  }

  /** Records a step's {@code [m, K]} logits for examples {@code order[from .. from + m)}. */
  void record(TFloat32 stepLogits, int[] order, int from, int m) {
    float[] rows = new float[m * k];
    stepLogits.asRawTensor().data().asFloats().read(rows);
    for (int i = 0; i < m; i++) {
      System.arraycopy(rows, i * k, current, order[from + i] * k, k);
    }
  }

  void endEpoch() {
    float[] t = previous;
    previous = current;
    current = t;
  }
}
