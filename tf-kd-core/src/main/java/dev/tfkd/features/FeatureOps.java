package dev.tfkd.features;

import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** The few graph pieces the feature losses share. Static and stateless. */
final class FeatureOps {
  /**
   * The floor of a squared norm before its square root: the norm's gradient at a zero vector is then 0 rather than
   * NaN, and values differ from an exact norm only below 1e-12 (PyTorch's {@code F.normalize} epsilon).
   */
  static final float TINY_SQUARE = 1e-24f;

  private FeatureOps() {}

  /** {@code [B, ...] -> [B, prod(...)]} from the static shape. */
  static Operand<TFloat32> flatten(Ops tf, Operand<TFloat32> x) {
    long n = 1;
    for (int i = 1; i < x.shape().numDimensions(); i++) {
      n *= x.shape().get(i);
    }
    return tf.reshape(x, tf.constant(new long[] {-1, n}));
  }

  /** Rows divided by their L2 norm (at least 1e-12), along the last axis. */
  static Operand<TFloat32> l2Normalize(Ops tf, Operand<TFloat32> x) {
    int last = x.shape().numDimensions() - 1;
    Operand<TFloat32> sq = tf.reduceSum(tf.math.square(x), tf.constant(last), org.tensorflow.op.core.ReduceSum.keepDims(true));
    return tf.math.mul(x, tf.math.rsqrt(tf.math.maximum(sq, tf.constant(TINY_SQUARE))));
  }

  /** The L2 norm along the last axis, {@code [..., 1]}, floored at 1e-12. */
  static Operand<TFloat32> norm(Ops tf, Operand<TFloat32> x) {
    int last = x.shape().numDimensions() - 1;
    Operand<TFloat32> sq = tf.reduceSum(tf.math.square(x), tf.constant(last), org.tensorflow.op.core.ReduceSum.keepDims(true));
    return tf.math.sqrt(tf.math.maximum(sq, tf.constant(TINY_SQUARE)));
  }

  /** The mean of every element. */
  static Operand<TFloat32> meanAll(Ops tf, Operand<TFloat32> x) {
    return tf.math.mean(tf.reshape(x, tf.constant(new long[] {-1})), tf.constant(0));
  }

  /** The sum of every element. */
  static Operand<TFloat32> sumAll(Ops tf, Operand<TFloat32> x) {
    return tf.reduceSum(tf.reshape(x, tf.constant(new long[] {-1})), tf.constant(0));
  }

  /** {@code a b^T} for {@code [B, D]} rows. */
  static Operand<TFloat32> gram(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b) {
    return tf.linalg.matMul(a, b, org.tensorflow.op.linalg.MatMul.transposeB(true));
  }

  /** The batch size of {@code x} as an int32 scalar. */
  static Operand<TInt32> batch(Ops tf, Operand<TFloat32> x) {
    return tf.reshape(
        tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {1})), tf.constant(new int[0]));
  }

  /** The batch size of {@code x} as a float scalar. */
  static Operand<TFloat32> batchFloat(Ops tf, Operand<TFloat32> x) {
    return tf.dtypes.cast(batch(tf, x), TFloat32.class);
  }

  /** {@code 1 - I}, {@code [B, B]}, for the batch of {@code x}. */
  static Operand<TFloat32> offDiagonal(Ops tf, Operand<TFloat32> x) {
    Operand<TInt32> b = batch(tf, x);
    Operand<TFloat32> eye = tf.oneHot(tf.range(tf.constant(0), b, tf.constant(1)), b, tf.constant(1f), tf.constant(0f));
    return tf.math.sub(tf.constant(1f), eye);
  }

  /** PyTorch's {@code smooth_l1_loss} (beta 1), element-wise: {@code 0.5 d^2} where {@code |d| < 1}, else {@code |d| - 0.5}. */
  static Operand<TFloat32> smoothL1(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b) {
    Operand<TFloat32> d = tf.math.sub(a, b);
    Operand<TFloat32> abs = tf.math.abs(d);
    return tf.select(
        tf.math.less(abs, tf.constant(1f)),
        tf.math.mul(tf.constant(0.5f), tf.math.square(d)),
        tf.math.sub(abs, tf.constant(0.5f)));
  }

  /** Throws unless the static shapes of {@code s} and {@code t} agree on the dimensions {@code from..to-1}. */
  static void requireSame(String method, String point, Operand<TFloat32> s, Operand<TFloat32> t, int from, int to) {
    long[] a = s.shape().asArray();
    long[] b = t.shape().asArray();
    if (a.length != b.length || !Arrays.equals(Arrays.copyOfRange(a, from, to), Arrays.copyOfRange(b, from, to))) {
      throw new IllegalArgumentException(
          method + ": the student's " + point + " " + Arrays.toString(Arrays.copyOfRange(a, 1, a.length))
              + " and the teacher's " + Arrays.toString(Arrays.copyOfRange(b, 1, b.length)) + " differ in "
              + (to - from == a.length - 1 ? "shape" : "size"));
    }
  }

  /**
   * PyTorch's {@code adaptive_avg_pool2d} of NHWC maps to {@code h x w}: output row {@code i} averages the input
   * rows {@code floor(i * H / h)} to {@code ceil((i + 1) * H / h) - 1}, and likewise along the width, so bins of
   * sizes that do not divide evenly overlap exactly as PyTorch's do. The identity when the size is already {@code h
   * x w}.
   */
  static Operand<TFloat32> adaptiveAvgPool(Ops tf, Operand<TFloat32> x, int h, int w) {
    int inH = (int) x.shape().get(1);
    int inW = (int) x.shape().get(2);
    return resample(tf, x, adaptiveAverage(inH, h), adaptiveAverage(inW, w));
  }

  /**
   * PyTorch's {@code F.interpolate(mode="nearest")} of NHWC maps to {@code h x w}: output row {@code i} copies input
   * row {@code floor(i * H / h)} (computed exactly in integers), and likewise along the width.
   */
  static Operand<TFloat32> nearest(Ops tf, Operand<TFloat32> x, int h, int w) {
    int inH = (int) x.shape().get(1);
    int inW = (int) x.shape().get(2);
    return resample(tf, x, nearestRows(inH, h), nearestRows(inW, w));
  }

  /** {@code [out, in]}: row {@code i} averages the adaptive pooling bin of output {@code i}. */
  static float[][] adaptiveAverage(int in, int out) {
    float[][] m = new float[out][in];
    for (int i = 0; i < out; i++) {
      int start = (int) ((long) i * in / out);
      int end = (int) (((long) (i + 1) * in + out - 1) / out);
      for (int j = start; j < end; j++) {
        m[i][j] = 1f / (end - start);
      }
    }
    return m;
  }

  /** {@code [out, in]}: row {@code i} selects input {@code floor(i * in / out)}. */
  static float[][] nearestRows(int in, int out) {
    float[][] m = new float[out][in];
    for (int i = 0; i < out; i++) {
      m[i][(int) ((long) i * in / out)] = 1f;
    }
    return m;
  }

  /**
   * Applies {@code rows} along the height and {@code cols} along the width of NHWC maps, {@code y[b,o,p,c] =
   * sum_hw rows[o,h] x[b,h,w,c] cols[p,w]}: one linear map per axis (the static sizes are known), so pooling and
   * upsampling differentiate like any product. An axis whose map is the identity is left alone.
   */
  private static Operand<TFloat32> resample(Ops tf, Operand<TFloat32> x, float[][] rows, float[][] cols) {
    Operand<TFloat32> y = x;
    if (!isIdentity(rows)) {
      y = tf.linalg.einsum(List.of(y, tf.constant(rows)), "bhwc,oh->bowc");
    }
    if (!isIdentity(cols)) {
      y = tf.linalg.einsum(List.of(y, tf.constant(cols)), "bhwc,pw->bhpc");
    }
    return y;
  }

  private static boolean isIdentity(float[][] m) {
    if (m.length != m[0].length) {
      return false;
    }
    for (int i = 0; i < m.length; i++) {
      for (int j = 0; j < m.length; j++) {
        if (m[i][j] != (i == j ? 1f : 0f)) {
          return false;
        }
      }
    }
    return true;
  }
}
