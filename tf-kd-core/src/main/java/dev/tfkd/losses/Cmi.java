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
 * flows into them, only into {@code P_x}, as in the paper's MCMI objective. Everything is computed in log space:
 * {@code log P} is a log-softmax and the centroids are given as {@code log Q} ({@link #perExampleLog}; {@link
 * #batchLogCentroids} forms them by a log-sum-exp over the batch), so a saturated centroid entry (a probability far
 * below float32's smallest value, e.g. {@code log Q = -115}) still counts at its exact size. Fed as probabilities
 * instead ({@link #perExample}), an entry that underflowed to 0 is floored at {@link #CENTROID_FLOOR}, the
 * smallest positive float32, and the term is then too small wherever {@code P_x} puts mass on it.
 *
 * <p>The same quantity in float64 for evaluation is {@link dev.tfkd.metrics.EmpiricalCmi}.
 */
public final class Cmi {
  private Cmi() {}

  /** Smallest centroid probability used inside the logarithm when centroids are given as probabilities. */
  public static final float CENTROID_FLOOR = Float.MIN_VALUE;

  /**
   * A masked entry of {@link #batchLogCentroids}' log-sum-exp: exp of it relative to any real log-probability is
   * 0 in float32, while staying finite (an infinity would turn the max-shift into NaN).
   */
  private static final float MASKED = -1e30f;

  /**
   * {@code KL(softmax(logits / T) || centroids[labels])} per example, with the centroids given as probabilities
   * (entries floored at {@link #CENTROID_FLOOR} before the logarithm); {@link #perExampleLog} is exact where
   * centroids are saturated.
   *
   * @param logits {@code [batch, K]}
   * @param centroids {@code [K, K]}, row {@code y} the centroid of class {@code y} (rows sum to 1)
   * @param labels int32 {@code [batch]}
   * @param temperature T, positive and finite
   * @return {@code [batch]}
   */
  public static Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> logits, Operand<TFloat32> centroids, Operand<TInt32> labels, float temperature) {
    Operand<TFloat32> logQ = tf.math.log(tf.math.maximum(tf.stopGradient(centroids), tf.constant(CENTROID_FLOOR)));
    return perExampleLog(tf, logits, logQ, labels, temperature);
  }

  /**
   * {@code KL(softmax(logits / T) || Q[labels]) = sum_k P[k] (log P[k] - log Q[k])} per example, with the
   * centroids given in log space: exact (to float32 rounding) for any finite {@code log Q}, however small the
   * probability it stands for.
   *
   * @param logits {@code [batch, K]}
   * @param logCentroids {@code [K, K]}, row {@code y} the logarithm of the centroid of class {@code y}
   * @param labels int32 {@code [batch]}
   * @param temperature T, positive and finite
   * @return {@code [batch]}
   */
  public static Operand<TFloat32> perExampleLog(
      Ops tf, Operand<TFloat32> logits, Operand<TFloat32> logCentroids, Operand<TInt32> labels, float temperature) {
    SoftmaxOps.checkTemperature(temperature);
    Operand<TFloat32> logP = SoftmaxOps.logSoftmax(tf, logits, temperature);
    Operand<TFloat32> logQ = tf.gather(tf.stopGradient(logCentroids), labels, tf.constant(0));
    return SoftmaxOps.rowSum(tf, tf.math.mul(tf.math.exp(logP), tf.math.sub(logP, logQ)));
  }

  /**
   * The logarithms of {@link #batchCentroids}, formed without leaving log space: {@code log Q_y[k] = logsumexp_{i:
   * y_i = y} log P_i[k] - log n_y}, held constant (no gradient). A class absent from the batch gets a row no
   * example of the batch reads (finite, meaningless).
   *
   * @param oneHot {@code [batch, K]} one-hot labels
   * @return {@code [K, K]}
   */
  public static Operand<TFloat32> batchLogCentroids(
      Ops tf, Operand<TFloat32> logits, Operand<TFloat32> oneHot, float temperature) {
    SoftmaxOps.checkTemperature(temperature);
    Operand<TFloat32> logP = tf.stopGradient(SoftmaxOps.logSoftmax(tf, logits, temperature));
    // [K (class y), batch, K (entry k)]: log P_i[k] where y_i = y, MASKED elsewhere.
    Operand<TFloat32> member = tf.expandDims(tf.linalg.transpose(tf.stopGradient(oneHot), tf.constant(new int[] {1, 0})), tf.constant(2));
    Operand<TFloat32> masked =
        tf.math.add(
            tf.math.mul(member, tf.expandDims(logP, tf.constant(0))),
            tf.math.mul(tf.math.sub(tf.constant(1f), member), tf.constant(MASKED)));
    Operand<TFloat32> lse =
        tf.squeeze(SoftmaxOps.logSumExp(tf, masked, 1), org.tensorflow.op.core.Squeeze.axis(java.util.List.of(1L)));
    Operand<TFloat32> counts = tf.reduceSum(tf.stopGradient(oneHot), tf.constant(0));
    Operand<TFloat32> logCounts = tf.math.log(tf.math.maximum(counts, tf.constant(1f)));
    return tf.stopGradient(tf.math.sub(lse, tf.expandDims(logCounts, tf.constant(1))));
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
