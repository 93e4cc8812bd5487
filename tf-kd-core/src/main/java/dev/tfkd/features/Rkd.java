package dev.tfkd.features;

import dev.tfkd.graph.FeaturePoint;
import dev.tfkd.losses.Parameter;
import dev.tfkd.training.FeatureInputs;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Relational knowledge distillation (Park et al., CVPR 2019) on the pooled vectors: {@code distance * smoothL1(d_s,
 * d_t) + angle * smoothL1(a_s, a_t)}, where {@code d} is the matrix of pairwise Euclidean distances of the batch
 * (squared distances floored at 1e-12, diagonal 0) divided by its mean over positive entries, {@code a_ijk = <e_ij,
 * e_ik>} with {@code e_ij} the unit vector from example i to example j (the zero vector for i = j), and smooth L1
 * (beta 1) averaged over the B^2 and B^3 entries. The vectors' widths may differ. Defaults distance 25, angle 50 (the
 * paper's), term weight 1.
 *
 * @param distance the weight of the distance term, in [0, 1000]
 * @param angle the weight of the angle term, in [0, 1000]
 */
public record Rkd(float distance, float angle) implements FeatureLoss {
  /** The distance term's weight. */
  public static final Parameter DISTANCE = Parameter.closed("distance", 25, 0, 1000);
  /** The angle term's weight. */
  public static final Parameter ANGLE = Parameter.closed("angle", 50, 0, 1000);

  /** Checks the weights against their bounds. */
  public Rkd {
    DISTANCE.check("rkd", distance);
    ANGLE.check("rkd", angle);
  }

  @Override
  public String name() {
    return "rkd";
  }

  @Override
  public String spec() {
    return FeatureLosses.spec(name(), "distance", distance, "angle", angle);
  }

  @Override
  public Operand<TFloat32> loss(Ops tf, FeatureInputs in, String adapterPrefix) {
    Operand<TFloat32> s = Points.student(name(), in, FeaturePoint.POOLED);
    Operand<TFloat32> t = Points.teacher(name(), in, FeaturePoint.POOLED);
    Operand<TFloat32> dist = FeatureOps.meanAll(tf, FeatureOps.smoothL1(tf, normalizedDistances(tf, s), normalizedDistances(tf, t)));
    Operand<TFloat32> ang = FeatureOps.meanAll(tf, FeatureOps.smoothL1(tf, angles(tf, s), angles(tf, t)));
    return tf.math.add(tf.math.mul(tf.constant(distance), dist), tf.math.mul(tf.constant(angle), ang));
  }

  private static Operand<TFloat32> normalizedDistances(Ops tf, Operand<TFloat32> e) {
    Operand<TFloat32> sq = tf.reduceSum(tf.math.square(e), tf.constant(1), org.tensorflow.op.core.ReduceSum.keepDims(true));
    Operand<TFloat32> d2 =
        tf.math.sub(tf.math.add(sq, tf.linalg.transpose(sq, tf.constant(new int[] {1, 0}))), tf.math.mul(tf.constant(2f), FeatureOps.gram(tf, e, e)));
    // Floored before the square root, so the diagonal's gradient is 0 rather than NaN; the diagonal is then set to 0.
    Operand<TFloat32> d = tf.math.mul(tf.math.sqrt(tf.math.maximum(d2, tf.constant(1e-12f))), FeatureOps.offDiagonal(tf, e));
    Operand<TFloat32> positive = tf.dtypes.cast(tf.math.greater(d, tf.constant(0f)), TFloat32.class);
    return tf.math.div(d, tf.math.div(FeatureOps.sumAll(tf, d), FeatureOps.sumAll(tf, positive)));
  }

  private static Operand<TFloat32> angles(Ops tf, Operand<TFloat32> e) {
    // diff[i, j] = e_j - e_i, [B, B, D]
    Operand<TFloat32> diff = tf.math.sub(tf.expandDims(e, tf.constant(0)), tf.expandDims(e, tf.constant(1)));
    Operand<TFloat32> unit = FeatureOps.l2Normalize(tf, diff);
    return tf.linalg.einsum(java.util.List.of(unit, unit), "ijd,ikd->ijk");
  }
}
