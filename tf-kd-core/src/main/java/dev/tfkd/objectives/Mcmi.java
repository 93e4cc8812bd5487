package dev.tfkd.objectives;

import dev.tfkd.losses.Cmi;
import dev.tfkd.losses.LossContext;
import dev.tfkd.losses.SoftmaxOps;
import dev.tfkd.training.Objective;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The MCMI teacher objective of Ye, Hamidi, Tan and Yang (ICLR 2024): maximise the log-likelihood and the
 * conditional mutual information together, {@code CE(y, softmax(z)) - lambda * mean_i KL(P_{x_i} || Q_{y_i})} with
 * {@code P_x = softmax(z_x)} and the class centroids {@code Q} held constant (no gradient through them), supplied
 * by a {@link CentroidFeed} that must also be given to the trainer as a hook.
 *
 * <p>Reported parts: hard = CE, soft = {@code -lambda * mean KL} (so total = hard + soft). One instance builds one
 * training graph (its feed is bound to it).
 */
public final class Mcmi implements Objective {
  private final float lambda;
  private final CentroidFeed centroids;

  /** @param lambda weight of the CMI term, finite and {@code >= 0} (the paper uses 0.10 to 0.25) */
  public Mcmi(float lambda, CentroidFeed centroids) {
    if (!(lambda >= 0) || Float.isInfinite(lambda)) {
      throw new IllegalArgumentException("lambda must be finite and >= 0, got " + lambda);
    }
    this.lambda = lambda;
    this.centroids = Objects.requireNonNull(centroids, "centroids");
  }

  /**
   * The weight of the CMI term.
   *
   * @return lambda
   */
  public float lambda() {
    return lambda;
  }

  /** The feed to pass to the trainer as a hook. */
  public CentroidFeed centroids() {
    return centroids;
  }

  @Override
  public String describe() {
    return "ce - " + lambda + "*cmi(centroids=" + centroids.policy().cliName() + ")";
  }

  @Override
  public boolean needsTeacher() {
    return false;
  }

  @Override
  public LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context) {
    Operand<TFloat32> logQ = centroids.attach(tf, logits, context.labels());
    Operand<TFloat32> ce = SoftmaxOps.mean(tf, SoftmaxOps.crossEntropy(tf, logits, context.oneHot()));
    Operand<TFloat32> cmi = SoftmaxOps.mean(tf, Cmi.perExampleLog(tf, logits, logQ, context.labels(), 1f));
    Operand<TFloat32> soft = tf.math.mul(tf.constant(-lambda), cmi);
    return new LossTerms(tf.math.add(ce, soft), ce, soft);
  }
}
