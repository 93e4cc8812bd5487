package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Sinkhorn distance between the batch's student and teacher distributions (SinKD, Cui et al. 2024, "SinKD:
 * Sinkhorn Distance Minimization for Knowledge Distillation"), with {@code q_i = softmax(z_s,i / T)} and
 * {@code p_j = softmax(z_t,j / T)} for the B examples of the batch:
 *
 * <pre>
 *   W_ij = ||q_i - p_j||_1                              cost between every student and teacher row
 *   P^0  = exp(-W / eps)                                 Gibbs kernel
 *   repeat n times: rows of P scaled to sum 1/B, then columns scaled to sum 1/B
 *   loss = sum_ij P_ij W_ij
 * </pre>
 *
 * The normalisations run in log space (log-sum-exp over rows and columns), so a small eps cannot underflow the
 * kernel; gradients flow through all n unrolled iterations. The divergence couples the whole batch; its
 * per-example value is {@code B sum_j P_ij W_ij}, whose batch mean is the loss above. Never negative; not exactly
 * zero when student equals teacher, since the entropic plan spreads some mass off the diagonal. Being a match
 * between sets of distributions, it does not tie example i's student to example i's teacher: used alone it can
 * learn a permuted labelling at low cost. Use it beside the label loss (ce-weight > 0) or another divergence, as
 * SinKD does.
 *
 * @param epsilon entropic regularisation eps, in [0.001, 1000] (default 0.1)
 * @param iterations row/column normalisation rounds, an integer in [1, 1000] (default 20)
 * @param temperature T, in [0.01, 100] (default 1)
 */
public record Sinkhorn(float epsilon, int iterations, float temperature) implements Tempered {
  /** Default entropic regularisation. */
  public static final float DEFAULT_EPSILON = 0.1f;
  /** Default number of Sinkhorn iterations. */
  public static final int DEFAULT_ITERATIONS = 20;
  /** eps and its bounds. */
  public static final Parameter EPSILON = Parameter.closed("eps", DEFAULT_EPSILON, 1e-3, 1e3);
  /**
   * The iterations and their bounds: each is unrolled into the graph (about twenty nodes, and as many again for the
   * gradient), so the count is what the graph's size grows with.
   */
  public static final Parameter ITERATIONS = Parameter.integer("iters", DEFAULT_ITERATIONS, 1, 1000);
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", 1);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public Sinkhorn {
    EPSILON.check("sinkhorn", epsilon);
    ITERATIONS.check("sinkhorn", iterations);
    TEMPERATURE.check("sinkhorn", temperature);
  }

  @Override
  public String name() {
    return "sinkhorn";
  }

  @Override
  public String spec() {
    return Divergences.spec(name(), "eps", epsilon, "iters", iterations, "T", temperature);
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, GraphTemperature t, LossContext context) {
    Operand<TFloat32> q = tf.math.exp(t.logSoftmax(tf, studentLogits));
    Operand<TFloat32> p = tf.math.exp(t.logSoftmax(tf, teacherLogits));
    // [B, 1, K] - [1, B, K]: every student row against every teacher row.
    Operand<TFloat32> diff = tf.math.sub(tf.expandDims(q, tf.constant(1)), tf.expandDims(p, tf.constant(0)));
    Operand<TFloat32> cost = tf.reduceSum(tf.math.abs(diff), tf.constant(2));
    Operand<TFloat32> batch = SoftmaxOps.batchSize(tf, studentLogits);
    Operand<TFloat32> logMarginal = tf.math.neg(tf.math.log(batch));
    Operand<TFloat32> logPlan = tf.math.div(tf.math.neg(cost), tf.constant(epsilon));
    for (int i = 0; i < iterations; i++) {
      logPlan = tf.math.add(tf.math.sub(logPlan, SoftmaxOps.logSumExp(tf, logPlan, 1)), logMarginal);
      logPlan = tf.math.add(tf.math.sub(logPlan, SoftmaxOps.logSumExp(tf, logPlan, 0)), logMarginal);
    }
    Operand<TFloat32> rowCost = SoftmaxOps.rowSum(tf, tf.math.mul(tf.math.exp(logPlan), cost));
    return tf.math.mul(rowCost, batch);
  }
}
