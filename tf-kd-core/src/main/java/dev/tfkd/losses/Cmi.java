package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The empirical conditional mutual information of Ye, Hamidi, Tan and Yang, "Bayes Conditional Distribution
 * Estimation for Knowledge Distillation Based on Conditional Mutual Information" (ICLR 2024, arXiv 2401.08732), as
 * graph fragments.
 *
 * <p>With {@code P_x = softmax(z_x / T)} a model's output and {@code Q_y} the centroid of class {@code y} (the mean
 * of {@code P_x} over the examples of class {@code y}), the per-example term is {@code KL(P_x || Q_y) = sum_k
 * P_x[k] (log P_x[k] - log Q_y[k])}, and its mean over a dataset estimates {@code I(X; Yhat | Y)}: how far the
 * predictions of one class spread around their class centroid.
 *
 * <p>The centroids are a {@code [K, K]} input (row {@code y} is {@code Q_y}); they are held constant: no gradient
 * flows into them, only into {@code P_x}, as in the paper's MCMI objective. Centroid entries are floored at
 * {@value #CENTROID_FLOOR} before the logarithm, so a centroid that underflowed to 0 gives a large but finite term;
 * {@code log P} is a log-softmax, finite for any finite logits.
 *
 * <p>The same quantity in float64 for evaluation is {@link dev.tfkd.metrics.EmpiricalCmi}.
 */
public final class Cmi {
  private Cmi() {}

  /** Smallest centroid probability used inside the logarithm. */
  public static final float CENTROID_FLOOR = 1e-30f;

  /**
   * {@code KL(softmax(logits / T) || centroids[labels])} per example.
   *
   * @param logits {@code [batch, K]}
   * @param centroids {@code [K, K]}, row {@code y} the centroid of class {@code y} (rows sum to 1)
   * @param labels int32 {@code [batch]}
   * @param temperature T, positive and finite
   * @return {@code [batch]}
   */
  public static Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> logits, Operand<TFloat32> centroids, Operand<TInt32> labels, float temperature) {
    SoftmaxOps.checkTemperature(temperature);
    Operand<TFloat32> logP = SoftmaxOps.logSoftmax(tf, logits, temperature);
    Operand<TFloat32> q = tf.gather(tf.stopGradient(centroids), labels, tf.constant(0));
    Operand<TFloat32> logQ = tf.math.log(tf.math.maximum(q, tf.constant(CENTROID_FLOOR)));
    return SoftmaxOps.rowSum(tf, tf.math.mul(tf.math.exp(logP), tf.math.sub(logP, logQ)));
  }

  /**
   * Class centroids of a batch: row {@code y} is the mean of {@code softmax(logits / T)} over the batch's examples
   * of class {@code y}, held constant (no gradient); a class absent from the batch gets a zero row, which no
   * example of the batch reads.
   *
   * @param oneHot {@code [batch, K]} one-hot labels
   * @return {@code [K, K]}
   */
  public static Operand<TFloat32> batchCentroids(
      Ops tf, Operand<TFloat32> logits, Operand<TFloat32> oneHot, float temperature) {
    SoftmaxOps.checkTemperature(temperature);
    Operand<TFloat32> p = tf.math.exp(SoftmaxOps.logSoftmax(tf, logits, temperature));
    // [K, batch] x [batch, K]: per-class sums of P.
    Operand<TFloat32> sums = tf.linalg.matMul(oneHot, p, org.tensorflow.op.linalg.MatMul.transposeA(true));
    Operand<TFloat32> counts = tf.reduceSum(oneHot, tf.constant(0), org.tensorflow.op.core.ReduceSum.keepDims(false));
    Operand<TFloat32> safe = tf.math.maximum(counts, tf.constant(1f));
    return tf.stopGradient(tf.math.div(sums, tf.expandDims(safe, tf.constant(1))));
  }
}
