package dev.tfkd.features;

import dev.tfkd.graph.BatchNormParameters;
import dev.tfkd.graph.FeaturePoint;
import dev.tfkd.losses.Parameter;
import dev.tfkd.training.FeatureInputs;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.types.TFloat32;

/**
 * Overhaul feature distillation (Heo et al., "A Comprehensive Overhaul of Feature Distillation", ICCV 2019), as
 * mdistiller and the authors' code train it on CIFAR-100. For each of the last {@code n} stages both networks have
 * ({@code n} the smaller stage count, the deepest stages paired):
 *
 * <ul>
 *   <li>the teacher's pre-ReLU point {@code T = stageN_pre}, average-pooled to the student's size when it is an
 *       integer multiple of it, clipped from below at the per-channel margin {@code m_c = E[x | x < 0]} for {@code
 *       x ~ N(beta_c, gamma_c^2)}, the distribution the teacher's batch normalisation before that ReLU gives ({@link
 *       BatchNormParameters}): with {@code s = |gamma|}, {@code a = beta / s}, {@code m = beta - s phi(a) / Phi(-a)}
 *       where {@code Phi(-a) > 0.001}, else {@code -3 s};
 *   <li>the student's pre-ReLU point ({@code stageN_pre}, or {@code stageN} for a student whose stages end
 *       linearly) through a connector, a 1x1 convolution without bias to the teacher's channels and batch
 *       normalisation (an adapter: trained with the student, never exported);
 *   <li>the partial L2 distance {@code sum (S - max(T, m))^2 [S > max(T, m) or max(T, m) > 0] / B}: no penalty where
 *       the teacher's value is negative (after the margin) and the student's is already below it.
 * </ul>
 *
 * Stage {@code i} of {@code n} (from the shallowest) weighs {@code decay^-(n - i)}: 1 for the deepest, 1/2, 1/4 ...
 * with the default decay 2. The term weight is 1e-3 (the reference divides the summed distance by the batch size and
 * by 1000). The teacher must give batch-norm parameters for its {@code stageN_pre} points (the zoo's ResNets, Wide
 * ResNets and VGGs rebuilt in the student's graph do); otherwise OFD is refused.
 *
 * @param decay the ratio of successive stage weights, in [1, 16]
 */
public record Ofd(float decay) implements FeatureLoss {
  /** The term weight of the reference's CIFAR-100 runs. */
  public static final float DEFAULT_WEIGHT = 1e-3f;
  /** The ratio of successive stage weights. */
  public static final Parameter DECAY = Parameter.closed("decay", 2, 1, 16);
  /** Below this probability of a negative value the margin is {@code -3 s}, as in the reference. */
  static final float MIN_NEGATIVE_PROBABILITY = 1e-3f;

  /** Checks the decay against its bounds. */
  public Ofd {
    DECAY.check("ofd", decay);
  }

  @Override
  public String name() {
    return "ofd";
  }

  @Override
  public String spec() {
    return FeatureLosses.spec(name(), "decay", decay);
  }

  @Override
  public Operand<TFloat32> loss(Ops tf, FeatureInputs in, String adapterPrefix) {
    List<String> student = studentStages(in);
    int teacherStages = 0;
    while (in.teacher().containsKey(FeaturePoint.stagePre(teacherStages + 1))) {
      teacherStages++;
    }
    if (teacherStages == 0) {
      throw new IllegalArgumentException(
          "ofd reads the teacher's pre-ReLU points stageN_pre; it has: " + String.join(", ", new TreeMap<>(in.teacher()).keySet()));
    }
    int n = Math.min(student.size(), teacherStages);
    Operand<TFloat32> batch = FeatureOps.batchFloat(tf, in.student().get(student.get(0)));
    Operand<TFloat32> total = tf.constant(0f);
    for (int j = 0; j < n; j++) {
      String sp = student.get(student.size() - n + j);
      String tp = FeaturePoint.stagePre(teacherStages - n + j + 1);
      BatchNormParameters bn = in.teacherBatchNorms().get(tp);
      if (bn == null) {
        throw new IllegalArgumentException(
            "ofd computes its margins from the teacher's batch normalisation before " + tp + ", and the teacher gives"
                + " none (use a tf-kd zoo ResNet, Wide ResNet or VGG teacher rebuilt in the student's graph)");
      }
      Operand<TFloat32> s = in.student().get(sp);
      Operand<TFloat32> t = poolTo(tf, Points.teacher(name(), in, tp), s, sp, tp);
      int channels = (int) t.shape().get(3);
      String p = adapterPrefix + "connector_" + sp;
      Operand<TFloat32> c = Adapters.batchNorm(tf, in.adapters(), p + "_bn", Adapters.pointwise(tf, in.adapters(), p + "_conv", s, channels));
      Operand<TFloat32> target = tf.math.maximum(t, margin(tf, bn));
      Operand<TFloat32> d = tf.math.sub(c, target);
      Operand<TFloat32> counted =
          tf.dtypes.cast(
              tf.math.logicalOr(tf.math.greater(c, target), tf.math.greater(target, tf.constant(0f))), TFloat32.class);
      Operand<TFloat32> stage = FeatureOps.sumAll(tf, tf.math.mul(tf.math.square(d), counted));
      float w = (float) Math.pow(decay, -(n - 1 - j));
      total = tf.math.add(total, tf.math.mul(tf.constant(w), stage));
    }
    return tf.math.div(total, batch);
  }

  /** The student's stages, each its pre-ReLU point where it has one (else the stage's output), in order. */
  private List<String> studentStages(FeatureInputs in) {
    List<String> out = new ArrayList<>();
    for (String stage : Points.stages(name(), in)) {
      String pre = stage + "_pre";
      out.add(in.student().containsKey(pre) ? pre : stage);
    }
    return out;
  }

  /** The teacher's point average-pooled to the student's size (an integer multiple of it), or as it is. */
  private static Operand<TFloat32> poolTo(Ops tf, Operand<TFloat32> t, Operand<TFloat32> s, String sp, String tp) {
    long sh = s.shape().get(1);
    long sw = s.shape().get(2);
    long th = t.shape().get(1);
    long tw = t.shape().get(2);
    if (sh == th && sw == tw) {
      return t;
    }
    if (th % sh != 0 || tw % sw != 0 || th / sh != tw / sw) {
      throw new IllegalArgumentException(
          "ofd: the student's " + sp + " is " + sh + "x" + sw + ", the teacher's " + tp + " " + th + "x" + tw
              + ": the teacher's map must be the student's size or an integer multiple of it");
    }
    int k = (int) (th / sh);
    return tf.nn.avgPool(t, List.of(1L, (long) k, (long) k, 1L), List.of(1L, (long) k, (long) k, 1L), "VALID");
  }

  /**
   * The per-channel margin {@code E[x | x < 0]} for {@code x ~ N(beta, gamma^2)}, {@code [C]}: {@code beta - s
   * phi(a) / Phi(-a)} with {@code s = |gamma|}, {@code a = beta / s}, where {@code Phi(-a) > 0.001}; {@code -3 s}
   * elsewhere. No gradient flows through it.
   */
  static Operand<TFloat32> margin(Ops tf, BatchNormParameters bn) {
    Operand<TFloat32> s = tf.math.abs(tf.stopGradient(bn.gamma()));
    Operand<TFloat32> beta = tf.stopGradient(bn.beta());
    // A zero scale makes a infinite: Phi(-a) is then 0 or 1 and the margin -3 s = 0 or beta, as the limit says.
    Operand<TFloat32> a = tf.math.div(beta, tf.math.maximum(s, tf.constant(Float.MIN_NORMAL)));
    Operand<TFloat32> negative = tf.math.mul(tf.constant(0.5f), tf.math.erfc(tf.math.mul(a, tf.constant((float) (1 / Math.sqrt(2))))));
    Operand<TFloat32> density =
        tf.math.mul(
            tf.math.exp(tf.math.mul(tf.constant(-0.5f), tf.math.square(a))), tf.constant((float) (1 / Math.sqrt(2 * Math.PI))));
    Operand<TFloat32> conditional =
        tf.math.sub(
            beta,
            tf.math.div(tf.math.mul(s, density), tf.math.maximum(negative, tf.constant(MIN_NEGATIVE_PROBABILITY))));
    return tf.select(
        tf.math.greater(negative, tf.constant(MIN_NEGATIVE_PROBABILITY)), conditional,
        tf.math.mul(tf.constant(-3f), s));
  }
}
