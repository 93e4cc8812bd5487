package dev.tfkd.models;

import dev.tfkd.graph.FeaturePoint;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * ShuffleNetV2 (Ma et al. 2018), net size 1, as the distillation benchmarks define it for CIFAR: a 3x3 stem to 24
 * channels (stride 1), three stages of one down-sampling unit and then 3, 7, 3 basic units with widths 116, 232, 464,
 * a 1x1 convolution to 1024 channels, global average pooling and a dense layer. A basic unit splits the channels in
 * half, passes one half through 1x1-BN-ReLU, depthwise 3x3-BN, 1x1-BN-ReLU, concatenates and shuffles the channels
 * (2 groups); a down-sampling unit runs two strided branches (depthwise 3x3-BN, 1x1-BN-ReLU; and 1x1-BN-ReLU,
 * depthwise 3x3 stride 2-BN, 1x1-BN-ReLU) and concatenates them.
 *
 * <p>Feature points: {@code stem} (after its ReLU), {@code stage1..3} (after each stage's last channel shuffle; half
 * of its channels bypass the last ReLU, so there is no {@code _pre} point), {@code pooled} (after the 1x1 head),
 * {@code logits}.
 */
final class ShuffleNetV2 extends ImageModel {
  private static final int[] WIDTHS = {116, 232, 464};
  private static final int[] BLOCKS = {3, 7, 3};

  ShuffleNetV2(long[] inputShape, int numClasses) {
    super("shufflenetv2", inputShape, numClasses);
  }

  @Override
  Operand<TFloat32> body(Layers l, Operand<TFloat32> x) {
    Operand<TFloat32> h = l.feature(FeaturePoint.STEM, l.relu(l.batchNorm("stem_bn", l.conv("stem_conv", x, 3, 24, 1, false))));
    for (int s = 0; s < 3; s++) {
      h = down("stage" + s + "_down", l, h, WIDTHS[s]);
      for (int b = 0; b < BLOCKS[s]; b++) {
        h = basic("stage" + s + "_" + b, l, h);
      }
      l.feature(FeaturePoint.stage(s + 1), h);
    }
    h = l.relu(l.batchNorm("head_bn", l.conv("head_conv", h, 1, 1024, 1, false)));
    return l.logits("linear", l.feature(FeaturePoint.POOLED, l.globalAvgPool(h)), numClasses());
  }

  private static Operand<TFloat32> basic(String p, Layers l, Operand<TFloat32> x) {
    Ops tf = l.tf();
    int c = Layers.dim(x, 3);
    int half = c / 2;
    Operand<TFloat32> x1 = tf.slice(x, tf.constant(new int[] {0, 0, 0, 0}), tf.constant(new int[] {-1, -1, -1, half}));
    Operand<TFloat32> x2 = tf.slice(x, tf.constant(new int[] {0, 0, 0, half}), tf.constant(new int[] {-1, -1, -1, c - half}));
    Operand<TFloat32> h = l.relu(l.batchNorm(p + "_bn1", l.conv(p + "_conv1", x2, 1, c - half, 1, false)));
    h = l.batchNorm(p + "_bn2", l.depthwise(p + "_conv2", h, 3, 1));
    h = l.relu(l.batchNorm(p + "_bn3", l.conv(p + "_conv3", h, 1, c - half, 1, false)));
    return shuffle(l, tf.concat(java.util.List.of(x1, h), tf.constant(3)));
  }

  private static Operand<TFloat32> down(String p, Layers l, Operand<TFloat32> x, int out) {
    int mid = out / 2;
    Operand<TFloat32> left = l.batchNorm(p + "_bn1", l.depthwise(p + "_conv1", x, 3, 2));
    left = l.relu(l.batchNorm(p + "_bn2", l.conv(p + "_conv2", left, 1, mid, 1, false)));
    Operand<TFloat32> right = l.relu(l.batchNorm(p + "_bn3", l.conv(p + "_conv3", x, 1, mid, 1, false)));
    right = l.batchNorm(p + "_bn4", l.depthwise(p + "_conv4", right, 3, 2));
    right = l.relu(l.batchNorm(p + "_bn5", l.conv(p + "_conv5", right, 1, mid, 1, false)));
    return shuffle(l, l.tf().concat(java.util.List.of(left, right), l.tf().constant(3)));
  }

  /** Channel shuffle with 2 groups: [N, H, W, 2, C/2] -> [N, H, W, C/2, 2] -> [N, H, W, C]. */
  private static Operand<TFloat32> shuffle(Layers l, Operand<TFloat32> x) {
    Ops tf = l.tf();
    int h = Layers.dim(x, 1);
    int w = Layers.dim(x, 2);
    int c = Layers.dim(x, 3);
    Operand<TFloat32> r = tf.reshape(x, tf.constant(new int[] {-1, h, w, 2, c / 2}));
    r = tf.linalg.transpose(r, tf.constant(new int[] {0, 1, 2, 4, 3}));
    return tf.reshape(r, tf.constant(new int[] {-1, h, w, c}));
  }
}
