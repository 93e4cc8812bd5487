package dev.tfkd.objectives;

import dev.tfkd.losses.Cmi;
import dev.tfkd.losses.LossContext;
import dev.tfkd.losses.SoftmaxOps;
import dev.tfkd.training.Objective;
import java.util.Arrays;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * CMIM, the opposite goal ("Towards Undistillable Models by Minimizing Conditional Mutual Information", 2025):
 * {@code CE + lambda * sum_T CMI_T}, where {@code CMI_T} is the mean {@code KL(softmax(z/T) || Q^T_y)} and
 * {@code Q^T} are the class centroids at temperature {@code T}. Shrinking the CMI at several temperatures
 * collapses each class's predictions onto their centroid, so the soft labels carry little for a student to learn
 * from.
 *
 * <p>Here the centroids are those of the current batch (per-class means of its softmax outputs), held constant,
 * so no full passes are needed; a class absent from a batch contributes nothing. Reported parts: hard = CE,
 * soft = {@code lambda * sum_T CMI_T}.
 *
 * @param lambda weight of the CMI term, finite and {@code >= 0}
 * @param temperatures the temperatures, each positive and finite, at least one
 */
public record Cmim(float lambda, float[] temperatures) implements Objective {
  /** Default temperatures. */
  public static final float[] DEFAULT_TEMPERATURES = {1f, 2f, 4f, 8f};

  /** Validates the parameters; throws IllegalArgumentException for a negative or infinite lambda or no temperatures. */
  public Cmim {
    if (!(lambda >= 0) || Float.isInfinite(lambda)) {
      throw new IllegalArgumentException("lambda must be finite and >= 0, got " + lambda);
    }
    temperatures = temperatures.clone();
    if (temperatures.length == 0) {
      throw new IllegalArgumentException("CMIM needs at least one temperature");
    }
    for (float t : temperatures) {
      if (!(t > 0) || Float.isInfinite(t)) {
        throw new IllegalArgumentException("temperatures must be positive and finite, got " + t);
      }
    }
  }

  /**
   * The temperatures whose CMI terms are summed (a copy).
   *
   * @return the temperatures
   */
  @Override
  public float[] temperatures() {
    return temperatures.clone();
  }

  @Override
  public String describe() {
    return "ce + " + lambda + "*sum_T cmi_T, T=" + Arrays.toString(temperatures);
  }

  @Override
  public boolean needsTeacher() {
    return false;
  }

  @Override
  public LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context) {
    Operand<TFloat32> ce = SoftmaxOps.mean(tf, SoftmaxOps.crossEntropy(tf, logits, context.oneHot()));
    Operand<TFloat32> sum = tf.constant(0f);
    for (float t : temperatures) {
      Operand<TFloat32> logQ = Cmi.batchLogCentroids(tf, logits, context.oneHot(), t);
      sum = tf.math.add(sum, SoftmaxOps.mean(tf, Cmi.perExampleLog(tf, logits, logQ, context.labels(), t)));
    }
    Operand<TFloat32> soft = tf.math.mul(tf.constant(lambda), sum);
    return new LossTerms(tf.math.add(ce, soft), ce, soft);
  }
}
