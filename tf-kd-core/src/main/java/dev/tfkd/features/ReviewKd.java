package dev.tfkd.features;

import dev.tfkd.graph.FeaturePoint;
import dev.tfkd.losses.Parameter;
import dev.tfkd.training.FeatureInputs;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Knowledge review (Chen, Liu, Zhao and Jia, CVPR 2021, "Distilling Knowledge via Knowledge Review"), as mdistiller
 * trains it on CIFAR-100. The student's levels, {@code stage1..stageN} (after their ReLU) and {@code pooled} (as a
 * 1x1 map), are walked from the deepest to the shallowest through attention-based fusion (ABF) modules, one per
 * level, each an adapter (trained with the student, checkpointed, never exported):
 *
 * <pre>
 *   x   = BN(conv1x1(S_l))                               to m = min(mid, C of the student's pooled) channels
 *   y   = nearest(r_{l+1}, H_l x W_l)                    the deeper level's residual (none at the deepest level)
 *   a   = sigmoid(conv1x1_bias([x, y]))                  two attention maps, [B, H, W, 2]
 *   r_l = x a_0 + y a_1                                  (r_l = x at the deepest level)
 *   o_l = BN(conv3x3(r_l))                               to the teacher's channels at level l
 * </pre>
 *
 * and each output is compared with the teacher's level ({@code stageN_pre}, the value before the stage's final
 * ReLU, where the teacher has one, else {@code stageN}; and {@code pooled}) by the hierarchical context loss
 *
 * <pre>
 *   HCL(o, t) = (mse(o, t) + sum_k 2^-k mse(P_k(o), P_k(t))) / (1 + sum_k 2^-k)
 * </pre>
 *
 * over the pooling sizes {@code 4, 2, 1} that are smaller than the level's height ({@code k = 1, 2, 3} counting only
 * those used; {@code P_k} is PyTorch's adaptive average pooling, bins of sizes that do not divide evenly included).
 * The loss is {@code w(epoch) sum_l HCL(o_l, T_l)} with the linear warm-up {@code w = min(1, (epoch + 1) / warmup)}
 * ({@code epoch} from 0, so the first epoch weighs {@code 1 / warmup}, as mdistiller's {@code epoch / 20} with its
 * epochs counted from 1; {@code w = 1} when {@code warmup = 0}). Batch normalisation uses batch statistics (epsilon
 * 1e-5); kernels start He-normal like every adapter here (the reference's Kaiming-uniform start differs in scale,
 * which the batch normalisation after {@code conv1x1} and {@code conv3x3} cancels). Student and teacher levels must
 * have the same height and width. Default weight 5 (mdistiller's {@code REVIEWKD_WEIGHT} on CIFAR-100).
 *
 * @param warmupEpochs epochs of linear warm-up, an integer in [0, 100000] (default 20)
 * @param maxMid the most channels of the fusion, an integer in [1, 4096] (default 512)
 */
public record ReviewKd(int warmupEpochs, int maxMid) implements FeatureLoss {
  /** mdistiller's REVIEWKD_WEIGHT on CIFAR-100. */
  public static final float DEFAULT_WEIGHT = 5f;
  /** The warm-up in epochs. */
  public static final Parameter WARMUP = Parameter.integer("warmup", 20, 0, 100_000);
  /** The cap on the fusion's channel count. */
  public static final Parameter MID = Parameter.integer("mid", 512, 1, 4096);
  /** The pooling sizes of the hierarchical context loss, each used when smaller than the level's height. */
  private static final int[] CONTEXT = {4, 2, 1};

  /** Checks the parameters against their bounds. */
  public ReviewKd {
    WARMUP.check("reviewkd", warmupEpochs);
    MID.check("reviewkd", maxMid);
  }

  @Override
  public String name() {
    return "reviewkd";
  }

  @Override
  public String spec() {
    return FeatureLosses.spec(name(), "warmup", warmupEpochs, "mid", maxMid);
  }

  @Override
  public Operand<TFloat32> loss(Ops tf, FeatureInputs in, String adapterPrefix) {
    if (warmupEpochs > 0 && in.epoch() == null) {
      throw new IllegalArgumentException(spec() + " reads the epoch for its warm-up, and these feature inputs carry none");
    }
    List<String> levels = new ArrayList<>(Points.stages(name(), in));
    List<Operand<TFloat32>> student = new ArrayList<>();
    List<Operand<TFloat32>> teacher = new ArrayList<>();
    for (String stage : levels) {
      Operand<TFloat32> s = Points.student(name(), in, stage);
      String pre = stage + "_pre";
      Operand<TFloat32> t = Points.teacher(name(), in, in.teacher().containsKey(pre) ? pre : stage);
      if (s.shape().numDimensions() != 4) {
        throw new IllegalArgumentException(name() + " reads feature maps; the student's " + stage + " is " + s.shape());
      }
      FeatureOps.requireSame(name(), stage, s, t, 1, 3);
      student.add(s);
      teacher.add(t);
    }
    Operand<TFloat32> sp = Points.student(name(), in, FeaturePoint.POOLED);
    Operand<TFloat32> tp = Points.teacher(name(), in, FeaturePoint.POOLED);
    if (sp.shape().numDimensions() != 2 || tp.shape().numDimensions() != 2) {
      throw new IllegalArgumentException(
          name() + " reads pooled vectors; the student's pooled is " + sp.shape() + ", the teacher's " + tp.shape());
    }
    levels.add(FeaturePoint.POOLED);
    student.add(asMap(tf, sp));
    teacher.add(asMap(tf, tp));

    int mid = (int) Math.min(maxMid, sp.shape().get(1));
    List<Operand<TFloat32>> parts = new ArrayList<>();
    Operand<TFloat32> residual = null;
    for (int l = levels.size() - 1; l >= 0; l--) {
      String p = adapterPrefix + "abf" + (l + 1) + "_";
      Operand<TFloat32> s = student.get(l);
      int h = (int) s.shape().get(1);
      int w = (int) s.shape().get(2);
      Operand<TFloat32> x = Adapters.batchNorm(tf, in.adapters(), p + "bn1", Adapters.convNoBias(tf, in.adapters(), p + "conv1", s, 1, mid, 1));
      if (residual != null) {
        Operand<TFloat32> y = FeatureOps.nearest(tf, residual, h, w);
        Operand<TFloat32> a =
            tf.math.sigmoid(Adapters.conv(tf, in.adapters(), p + "att", tf.concat(List.of(x, y), tf.constant(3)), 1, 2, 1));
        x = tf.math.add(tf.math.mul(x, channel(tf, a, 0)), tf.math.mul(y, channel(tf, a, 1)));
      }
      int out = (int) teacher.get(l).shape().get(3);
      Operand<TFloat32> o = Adapters.batchNorm(tf, in.adapters(), p + "bn2", Adapters.convNoBias(tf, in.adapters(), p + "conv2", x, 3, out, 1));
      residual = x;
      parts.add(hcl(tf, o, teacher.get(l)));
    }
    Operand<TFloat32> sum = tf.math.addN(parts);
    if (warmupEpochs == 0) {
      return sum;
    }
    Operand<TFloat32> ramp =
        tf.math.minimum(tf.constant(1f), tf.math.div(tf.math.add(in.epoch(), tf.constant(1f)), tf.constant((float) warmupEpochs)));
    return tf.math.mul(ramp, sum);
  }

  /** The hierarchical context loss of one level: full-size MSE plus the MSEs of the pooled maps, weights halving. */
  static Operand<TFloat32> hcl(Ops tf, Operand<TFloat32> o, Operand<TFloat32> t) {
    int h = (int) o.shape().get(1);
    List<Operand<TFloat32>> terms = new ArrayList<>();
    List<Double> weights = new ArrayList<>();
    terms.add(mse(tf, o, t));
    weights.add(1.0);
    double weight = 1;
    for (int size : CONTEXT) {
      if (size >= h) {
        continue;
      }
      weight /= 2;
      terms.add(mse(tf, FeatureOps.adaptiveAvgPool(tf, o, size, size), FeatureOps.adaptiveAvgPool(tf, t, size, size)));
      weights.add(weight);
    }
    double total = weights.stream().mapToDouble(Double::doubleValue).sum();
    List<Operand<TFloat32>> weighted = new ArrayList<>();
    for (int i = 0; i < terms.size(); i++) {
      weighted.add(tf.math.mul(tf.constant((float) (weights.get(i) / total)), terms.get(i)));
    }
    return tf.math.addN(weighted);
  }

  private static Operand<TFloat32> mse(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b) {
    return FeatureOps.meanAll(tf, tf.math.square(tf.math.sub(a, b)));
  }

  /** {@code [B, C] -> [B, 1, 1, C]}. */
  private static Operand<TFloat32> asMap(Ops tf, Operand<TFloat32> v) {
    return tf.reshape(v, tf.constant(new long[] {-1, 1, 1, v.shape().get(1)}));
  }

  /** Channel {@code c} of {@code [B, H, W, C]} as {@code [B, H, W, 1]}. */
  private static Operand<TFloat32> channel(Ops tf, Operand<TFloat32> a, int c) {
    return tf.slice(a, tf.constant(new int[] {0, 0, 0, c}), tf.constant(new int[] {-1, -1, -1, 1}));
  }
}
