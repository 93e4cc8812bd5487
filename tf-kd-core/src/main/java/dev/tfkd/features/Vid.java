package dev.tfkd.features;

import dev.tfkd.losses.Parameter;
import dev.tfkd.training.FeatureInputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Variational information distillation (Ahn, Hu, Damianou, Lawrence and Dai, CVPR 2019, "Variational Information
 * Distillation for Knowledge Transfer"), as RepDistiller trains it on CIFAR-100: for every stage {@code j} the
 * student has ({@code stage1..stageN} after their ReLU, read on the teacher too), the teacher's map is modelled as
 * a Gaussian whose mean a regressor predicts from the student's map and whose variance is one learned value per
 * teacher channel:
 *
 * <pre>
 *   mu_j    = conv1x1(relu(conv1x1(relu(conv1x1(S_j)))))      C_s -> C_t -> C_t -> C_t, no biases
 *   var_j   = softplus(alpha_j) + 1e-5                         alpha_j per channel, starting where var_j = variance
 *   loss    = sum_j mean_{b,h,w,c} 0.5 ((mu_j - T_j)^2 / var_j + log var_j)
 * </pre>
 *
 * The regressors and {@code alpha} are adapters (trained with the student, checkpointed, never exported). When the
 * two maps of a stage differ in size, the larger is reduced to the smaller's height and width by PyTorch's adaptive
 * average pooling first, as the reference does. The loss is not 0 for equal maps ({@code log var} remains) and may
 * be negative once the variance falls below 1. Default weight 1.
 *
 * @param variance the starting variance, in [0.001, 10000] (default 5)
 */
public record Vid(float variance) implements FeatureLoss {
  /** RepDistiller's weight for VID on CIFAR-100. */
  public static final float DEFAULT_WEIGHT = 1f;
  /** The starting variance and its bounds. */
  public static final Parameter VARIANCE = Parameter.closed("variance", 5, 0.001, 10_000);
  /** The floor added to the softplus, as the reference's {@code eps}. */
  static final double EPS = 1e-5;

  /** Checks the variance against its bounds. */
  public Vid {
    VARIANCE.check("vid", variance);
  }

  @Override
  public String name() {
    return "vid";
  }

  @Override
  public String spec() {
    return FeatureLosses.spec(name(), "variance", variance);
  }

  /** {@code alpha} such that {@code softplus(alpha) + eps} is the starting variance. */
  float initialAlpha() {
    return (float) Math.log(Math.expm1(variance - EPS));
  }

  @Override
  public Operand<TFloat32> loss(Ops tf, FeatureInputs in, String adapterPrefix) {
    List<Operand<TFloat32>> parts = new ArrayList<>();
    for (String stage : Points.stages(name(), in)) {
      Operand<TFloat32> s = Points.student(name(), in, stage);
      Operand<TFloat32> t = Points.teacher(name(), in, stage);
      long[] a = s.shape().asArray();
      long[] b = t.shape().asArray();
      if (a.length != 4 || b.length != 4) {
        throw new IllegalArgumentException(name() + " reads feature maps; the student's " + stage + " is " + s.shape() + ", the teacher's " + t.shape());
      }
      if (a[1] > b[1] && a[2] >= b[2]) {
        s = FeatureOps.adaptiveAvgPool(tf, s, (int) b[1], (int) b[2]);
      } else if (a[1] < b[1] && a[2] <= b[2]) {
        t = FeatureOps.adaptiveAvgPool(tf, t, (int) a[1], (int) a[2]);
      } else if (a[2] != b[2]) {
        throw new IllegalArgumentException(
            name() + ": the student's " + stage + " " + Arrays.toString(Arrays.copyOfRange(a, 1, 4)) + " and the teacher's "
                + Arrays.toString(Arrays.copyOfRange(b, 1, 4)) + " cannot be pooled to one size (one is taller, the other wider)");
      }
      int c = (int) b[3];
      String p = adapterPrefix + stage + "_";
      Operand<TFloat32> mu = tf.nn.relu(Adapters.convNoBias(tf, in.adapters(), p + "conv1", s, 1, c, 1));
      mu = tf.nn.relu(Adapters.convNoBias(tf, in.adapters(), p + "conv2", mu, 1, c, 1));
      mu = Adapters.convNoBias(tf, in.adapters(), p + "conv3", mu, 1, c, 1);
      Operand<TFloat32> alpha = in.adapters().filledWeight(tf, p + "alpha", Shape.of(c), initialAlpha());
      Operand<TFloat32> var = tf.math.add(tf.math.softplus(alpha), tf.constant((float) EPS));
      Operand<TFloat32> nll =
          tf.math.mul(tf.constant(0.5f), tf.math.add(tf.math.div(tf.math.square(tf.math.sub(mu, t)), var), tf.math.log(var)));
      parts.add(FeatureOps.meanAll(tf, nll));
    }
    return tf.math.addN(parts);
  }
}
