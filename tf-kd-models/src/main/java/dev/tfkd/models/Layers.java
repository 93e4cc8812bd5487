package dev.tfkd.models;

import dev.tfkd.graph.Architecture.Mode;
import dev.tfkd.graph.BatchNormParameters;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.Init;
import dev.tfkd.graph.Variables;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TFloat32;

/**
 * The layers the zoo is made of, for one graph build: convolutions, batch normalisation, dense layers and pooling
 * on NHWC float tensors. Channel counts are read from the static shapes of the inputs, so callers name only what
 * a layer outputs. Collects the moving-average update ops of batch normalisation in training mode; {@link
 * #forward} returns them with the logits. Not thread-safe: one instance per {@link
 * dev.tfkd.graph.Architecture#build} call.
 *
 * <p>Conventions follow the PyTorch reference zoo the published distillation tables use, so parameter counts
 * match: convolutions pad {@code (k - 1) / 2} on every side (explicitly when strided, so a stride-2 convolution
 * sees the same pixels as PyTorch's), batch normalisation has a scale and a shift (epsilon 1e-5, momentum 0.1,
 * moving variance from the unbiased batch variance), dense layers have a bias.
 */
public final class Layers {
  /** PyTorch's BatchNorm2d defaults. */
  public static final float BN_EPSILON = 1e-5f;

  /** The batch normalisation momentum (PyTorch convention: weight of the new batch statistic). */
  public static final float BN_MOMENTUM = 0.1f;

  private final Ops tf;
  private final Variables vars;
  private final Mode mode;
  private final List<Op> updates = new ArrayList<>();
  private final java.util.Map<String, Operand<TFloat32>> features = new java.util.LinkedHashMap<>();
  private final java.util.Map<String, BatchNormParameters> norms = new java.util.HashMap<>();
  private final java.util.Map<String, BatchNormParameters> pointNorms = new java.util.LinkedHashMap<>();

  /**
   * Layers that add ops with {@code tf} and create variables in {@code vars}.
   *
   * @param tf the ops factory
   * @param vars where variables are created
   * @param mode training or inference
   */
  public Layers(Ops tf, Variables vars, Mode mode) {
    this.tf = tf;
    this.vars = vars;
    this.mode = mode;
  }

  /**
   * The ops factory.
   *
   * @return the ops
   */
  public Ops tf() {
    return tf;
  }

  /**
   * Training or inference.
   *
   * @return the mode
   */
  public Mode mode() {
    return mode;
  }

  /** The logits with the update ops and feature points collected so far. */
  public Forward forward(Operand<TFloat32> logits) {
    return new Forward(logits, updates, features, pointNorms);
  }

  /**
   * Records that the feature point {@code point} is the output of the batch normalisation {@code bn} built earlier
   * (or, in a ResNet, a residual sum whose branch ends in it, as OFD's reference takes it), so methods can read the
   * point's per-channel distribution ({@link BatchNormParameters}).
   *
   * @param point a feature point recorded with {@link #feature}
   * @param bn the name given to {@link #batchNorm}
   */
  public void featureBatchNorm(String point, String bn) {
    BatchNormParameters p = norms.get(bn);
    if (p == null || !features.containsKey(point)) {
      throw new IllegalStateException("no batch normalisation " + bn + " or feature point " + point + " to pair");
    }
    pointNorms.put(point, p);
  }

  /**
   * Records {@code x} as the feature point {@code name} ({@link dev.tfkd.graph.FeaturePoint}) and returns it.
   *
   * @param name the point's name, unique in the model
   * @param x the tensor
   * @return {@code x}
   */
  public Operand<TFloat32> feature(String name, Operand<TFloat32> x) {
    if (features.putIfAbsent(name, x) != null) {
      throw new IllegalStateException("feature point " + name + " recorded twice");
    }
    return x;
  }

  /** The static size of dimension {@code i} of {@code x}; fails if unknown. */
  public static int dim(Operand<TFloat32> x, int i) {
    long d = x.shape().get(i);
    if (d < 0) {
      throw new IllegalStateException("dimension " + i + " of " + x.shape() + " is not known when the graph is built");
    }
    return Math.toIntExact(d);
  }

  /** Checks that {@code shape} is {@code [H, W, C]} with positive sizes and returns it. */
  public static long[] imageShape(long[] shape, String model) {
    if (shape.length != 3 || Arrays.stream(shape).anyMatch(d -> d < 1)) {
      throw new IllegalArgumentException(model + " takes images [H, W, C]; got input shape " + Arrays.toString(shape));
    }
    return shape.clone();
  }

  /**
   * A k x k convolution to {@code out} channels, He-normal kernel, optional bias.
   *
   * @param stride the stride in both directions
   */
  public Operand<TFloat32> conv(String name, Operand<TFloat32> x, int k, int out, int stride, boolean bias) {
    int in = dim(x, 3);
    Operand<TFloat32> w =
        vars.weight(tf, name + "_kernel", Shape.of(k, k, in, out), Init.HE_NORMAL, k * k * in, k * k * out);
    Operand<TFloat32> y = tf.nn.conv2d(pad(x, k, stride), w, List.of(1L, (long) stride, (long) stride, 1L), padding(k, stride));
    if (bias) {
      y = tf.nn.biasAdd(y, vars.weight(tf, name + "_bias", Shape.of(out), Init.ZEROS, k * k * in, k * k * out));
    }
    return y;
  }

  /** A k x k depthwise convolution (one filter per channel, no bias). */
  public Operand<TFloat32> depthwise(String name, Operand<TFloat32> x, int k, int stride) {
    int c = dim(x, 3);
    Operand<TFloat32> w = vars.weight(tf, name + "_kernel", Shape.of(k, k, c, 1), Init.HE_NORMAL, k * k, k * k);
    return tf.nn.depthwiseConv2dNative(pad(x, k, stride), w, List.of(1L, (long) stride, (long) stride, 1L), padding(k, stride));
  }

  /** A k x k convolution with no padding ({@code VALID}) and a bias, as LeNet-5 uses. */
  public Operand<TFloat32> convValid(String name, Operand<TFloat32> x, int k, int out) {
    int in = dim(x, 3);
    if (dim(x, 1) < k || dim(x, 2) < k) {
      throw new IllegalArgumentException(name + ": a " + k + "x" + k + " convolution needs at least " + k + "x" + k
          + " inputs, got " + dim(x, 1) + "x" + dim(x, 2));
    }
    Operand<TFloat32> w =
        vars.weight(tf, name + "_kernel", Shape.of(k, k, in, out), Init.HE_NORMAL, k * k * in, k * k * out);
    Operand<TFloat32> b = vars.weight(tf, name + "_bias", Shape.of(out), Init.ZEROS, k * k * in, k * k * out);
    return tf.nn.biasAdd(tf.nn.conv2d(x, w, List.of(1L, 1L, 1L, 1L), "VALID"), b);
  }

  private Operand<TFloat32> pad(Operand<TFloat32> x, int k, int stride) {
    int p = (k - 1) / 2;
    if (stride == 1 || p == 0) {
      return x;
    }
    // PyTorch pads both sides; TensorFlow's SAME pads the right/bottom first when strided. Pad explicitly so the
    // strided convolution samples the same pixels as the reference.
    return tf.pad(x, tf.constant(new int[][] {{0, 0}, {p, p}, {p, p}, {0, 0}}), tf.constant(0f));
  }

  private static String padding(int k, int stride) {
    return stride == 1 && k % 2 == 1 ? "SAME" : "VALID";
  }

  /**
   * Batch normalisation over the channels of NHWC {@code x}, with a trainable scale (ones) and shift (zeros).
   * Training mode normalises with the batch statistics and adds ops that move the moving mean and variance
   * towards them; inference mode normalises with the moving averages.
   */
  public Operand<TFloat32> batchNorm(String name, Operand<TFloat32> x) {
    int c = dim(x, 3);
    Operand<TFloat32> gamma = vars.weight(tf, name + "_gamma", Shape.of(c), Init.ONES, 1, 1);
    Operand<TFloat32> beta = vars.weight(tf, name + "_beta", Shape.of(c), Init.ZEROS, 1, 1);
    Variable<TFloat32> mean = vars.state(tf, name + "_moving_mean", Shape.of(c), Init.ZEROS);
    Variable<TFloat32> var = vars.state(tf, name + "_moving_variance", Shape.of(c), Init.ONES);
    // Read the state through Identity: ops applied to a VariableV2 directly can break gradient construction.
    Operand<TFloat32> meanRead = tf.identity(mean);
    Operand<TFloat32> varRead = tf.identity(var);
    norms.put(name, new BatchNormParameters(gamma, beta));
    boolean training = mode == Mode.TRAINING;
    FusedBatchNorm<TFloat32, TFloat32> bn =
        tf.nn.fusedBatchNorm(
            x, gamma, beta, meanRead, varRead,
            FusedBatchNorm.epsilon(BN_EPSILON),
            FusedBatchNorm.isTraining(training),
            FusedBatchNorm.dataFormat("NHWC"));
    if (training) {
      // batchVariance is the unbiased (n / (n - 1)) variance, the one PyTorch's running_var tracks.
      Operand<TFloat32> m = tf.constant(BN_MOMENTUM);
      Operand<TFloat32> keep = tf.constant(1f - BN_MOMENTUM);
      Operand<TFloat32> batchMean = tf.stopGradient(bn.batchMean());
      Operand<TFloat32> batchVar = tf.stopGradient(bn.batchVariance());
      updates.add(tf.assign(mean, tf.math.add(tf.math.mul(meanRead, keep), tf.math.mul(batchMean, m))));
      updates.add(tf.assign(var, tf.math.add(tf.math.mul(varRead, keep), tf.math.mul(batchVar, m))));
    }
    return bn.y();
  }

  /** A dense layer: {@code x [batch, in] -> [batch, out]}, He-normal kernel, zero bias. */
  public Operand<TFloat32> dense(String name, Operand<TFloat32> x, int out) {
    int in = dim(x, 1);
    Operand<TFloat32> w = vars.weight(tf, name + "_kernel", Shape.of(in, out), Init.HE_NORMAL, in, out);
    Operand<TFloat32> b = vars.weight(tf, name + "_bias", Shape.of(out), Init.ZEROS, in, out);
    return tf.nn.biasAdd(tf.linalg.matMul(x, w), b);
  }

  /** A dense layer to logits: Glorot-uniform kernel (no ReLU follows), zero bias. */
  public Operand<TFloat32> logits(String name, Operand<TFloat32> x, int k) {
    int in = dim(x, 1);
    Operand<TFloat32> w = vars.weight(tf, name + "_kernel", Shape.of(in, k), Init.GLOROT_UNIFORM, in, k);
    Operand<TFloat32> b = vars.weight(tf, name + "_bias", Shape.of(k), Init.ZEROS, in, k);
    return tf.nn.biasAdd(tf.linalg.matMul(x, w), b);
  }

  /**
   * Rectified linear unit.
   *
   * @param x the input
   * @return max(x, 0)
   */
  public Operand<TFloat32> relu(Operand<TFloat32> x) {
    return tf.nn.relu(x);
  }

  /** Max pooling, window and stride {@code k}, no padding (floor of the size, as PyTorch's MaxPool2d). */
  public Operand<TFloat32> maxPool(Operand<TFloat32> x, int k) {
    if (dim(x, 1) < k || dim(x, 2) < k) {
      throw new IllegalArgumentException(
          "a " + k + "x" + k + " pooling needs at least " + k + "x" + k + " inputs, got " + dim(x, 1) + "x" + dim(x, 2));
    }
    return tf.nn.maxPool(x, tf.constant(new int[] {1, k, k, 1}), tf.constant(new int[] {1, k, k, 1}), "VALID");
  }

  /** The mean over height and width: {@code [batch, H, W, C] -> [batch, C]}. */
  public Operand<TFloat32> globalAvgPool(Operand<TFloat32> x) {
    return tf.math.mean(x, tf.constant(new int[] {1, 2}));
  }

  /** {@code [batch, ...] -> [batch, product]} using the static shape. */
  public Operand<TFloat32> flatten(Operand<TFloat32> x) {
    long n = 1;
    for (int i = 1; i < x.shape().numDimensions(); i++) {
      n *= dim(x, i);
    }
    return tf.reshape(x, tf.constant(new long[] {-1, n}));
  }
}
