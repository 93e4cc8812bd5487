package dev.tfkd.objectives;

import dev.tfkd.graph.Tensors;
import dev.tfkd.metrics.EmpiricalCmi;
import dev.tfkd.training.TrainingContext;
import dev.tfkd.training.TrainingHook;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The class centroids {@code Q} ({@code [K, K]}, row {@code y} the mean softmax output over training examples of
 * class {@code y}, temperature 1) that an {@link Mcmi} objective reads, fed to the graph with every step and kept
 * up to date according to a {@link CentroidPolicy}.
 *
 * <p>One feed serves one training run: the objective creates the placeholder through {@link #attach} while its
 * loss is built, and the same object, passed to the trainer as a {@link TrainingHook}, computes and feeds the
 * values. The centroids are kept in float64 and fed as their logarithms ({@code log Q}, computed in float64), so
 * an entry far below float32's smallest probability (a saturated centroid) reaches {@link
 * dev.tfkd.losses.Cmi#perExampleLog} at its exact size; only an entry that underflowed float64 itself is floored
 * at {@link Double#MIN_VALUE}. A class with no training examples gets a uniform row (no example reads it). Owns one small tensor
 * between {@link #onStart} and {@link #onEnd}. Not thread-safe.
 */
public final class CentroidFeed implements TrainingHook {
  private final CentroidPolicy policy;
  private final float emaMomentum;
  private final int numClasses;
  private Placeholder<TFloat32> placeholder;
  private List<Operand<?>> stepFetches = List.of();
  private double[] centroids;
  private double[] initial;
  private TFloat32 tensor;

  /**
   * @param emaMomentum {@code m} of the {@link CentroidPolicy#EMA} update, in [0, 1); ignored by the others
   */
  public CentroidFeed(CentroidPolicy policy, float emaMomentum, int numClasses) {
    this.policy = java.util.Objects.requireNonNull(policy, "policy");
    if (!(emaMomentum >= 0 && emaMomentum < 1)) {
      throw new IllegalArgumentException("EMA momentum must be in [0, 1), got " + emaMomentum);
    }
    if (numClasses < 2) {
      throw new IllegalArgumentException("numClasses must be >= 2, got " + numClasses);
    }
    this.emaMomentum = emaMomentum;
    this.numClasses = numClasses;
  }

  /**
   * How the class centroids are computed and refreshed.
   *
   * @return the centroid policy
   */
  public CentroidPolicy policy() {
    return policy;
  }

  /**
   * Creates the {@code [K, K]} placeholder of the centroids' logarithms in the graph being built and, for the EMA policy, the outputs
   * it reads after each step. Called once, by the objective.
   */
  Operand<TFloat32> attach(Ops tf, Operand<TFloat32> logits, Operand<TInt32> labels) {
    if (placeholder != null) {
      throw new IllegalStateException("a centroid feed serves one training graph; create a new one per run");
    }
    placeholder =
        tf.withName("mcmi_log_centroids").placeholder(TFloat32.class, Placeholder.shape(Shape.of(numClasses, numClasses)));
    if (policy == CentroidPolicy.EMA) {
      stepFetches = List.of(tf.nn.softmax(logits), tf.identity(labels));
    }
    return placeholder;
  }

  /**
   * Starts from these centroids ({@code K x K} row-major, e.g. computed by the starting model in inference mode)
   * instead of a full pass with the training graph at the start; later refreshes (policy {@code epoch}) still use
   * the training graph.
   */
  public CentroidFeed startFrom(double[] centroids) {
    if (centroids.length != numClasses * numClasses) {
      throw new IllegalArgumentException(
          "centroids must hold K*K = " + numClasses * numClasses + " values, got " + centroids.length);
    }
    this.initial = centroids.clone();
    return this;
  }

  /** The centroids last fed ({@code K x K} row-major), or null before training started. */
  public double[] centroids() {
    return centroids == null ? null : centroids.clone();
  }

  @Override
  public void onStart(TrainingContext context) {
    requireAttached();
    if (initial != null) {
      use(initial.clone());
    } else {
      fullPass(context);
    }
  }

  @Override
  public void beforeEpoch(int epoch, TrainingContext context) {
    if (policy == CentroidPolicy.EPOCH && epoch > 0) {
      fullPass(context);
    }
  }

  @Override
  public void feed(Session.Runner runner) {
    runner.feed(placeholder, tensor);
  }

  @Override
  public List<Operand<?>> fetches() {
    return stepFetches;
  }

  @Override
  public void afterStep(List<Tensor> fetched) {
    if (policy != CentroidPolicy.EMA) {
      return;
    }
    int k = numClasses;
    TFloat32 probs = (TFloat32) fetched.get(0);
    TInt32 labels = (TInt32) fetched.get(1);
    int m = (int) labels.shape().size();
    float[] p = new float[m * k];
    int[] y = new int[m];
    probs.asRawTensor().data().asFloats().read(p);
    labels.asRawTensor().data().asInts().read(y);
    double[] sums = new double[k * k];
    int[] counts = new int[k];
    for (int i = 0; i < m; i++) {
      counts[y[i]]++;
      for (int c = 0; c < k; c++) {
        sums[y[i] * k + c] += p[i * k + c];
      }
    }
    for (int cls = 0; cls < k; cls++) {
      if (counts[cls] > 0) {
        for (int c = 0; c < k; c++) {
          int at = cls * k + c;
          centroids[at] = emaMomentum * centroids[at] + (1 - emaMomentum) * sums[at] / counts[cls];
        }
      }
    }
    publish();
  }

  /** The centroids in use, so that a resumed run feeds what the uninterrupted run would have fed. */
  @Override
  public java.util.Map<String, double[]> checkpointState() {
    return centroids == null ? java.util.Map.of() : java.util.Map.of("centroids", centroids.clone());
  }

  @Override
  public void restoreState(java.util.Map<String, double[]> state) {
    double[] q = state.get("centroids");
    if (q == null) {
      // A checkpoint written without it: the policy's own starting values stand (exact for once and epoch).
      return;
    }
    if (q.length != numClasses * numClasses) {
      throw new IllegalArgumentException(
          "checkpointed centroids hold " + q.length + " values, expected K*K = " + numClasses * numClasses);
    }
    use(q.clone());
  }

  @Override
  public void onEnd() {
    if (tensor != null) {
      tensor.close();
      tensor = null;
    }
  }

  private void fullPass(TrainingContext context) {
    float[] logits = context.logits(context.train());
    use(EmpiricalCmi.centroids(logits, context.train().labels(), numClasses, 1));
  }

  private void use(double[] q) {
    for (int i = 0; i < q.length; i++) {
      if (Double.isNaN(q[i])) {
        q[i] = 1.0 / numClasses;
      }
    }
    centroids = q;
    publish();
  }

  private void publish() {
    float[] f = new float[centroids.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) Math.log(Math.max(centroids[i], Double.MIN_VALUE));
    }
    TFloat32 next = Tensors.floats(Shape.of(numClasses, numClasses), f, 0, f.length);
    if (tensor != null) {
      tensor.close();
    }
    tensor = next;
  }

  private void requireAttached() {
    if (placeholder == null) {
      throw new IllegalStateException("the centroid feed was passed to the trainer but no MCMI objective uses it");
    }
  }
}
