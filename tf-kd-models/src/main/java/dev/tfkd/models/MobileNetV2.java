package dev.tfkd.models;

import java.util.Locale;
import dev.tfkd.graph.FeaturePoint;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * MobileNetV2 (Sandler et al. 2018) as the distillation benchmarks define it for CIFAR: a stride-2 3x3 stem,
 * inverted residual blocks (1x1 expansion by t, 3x3 depthwise, 1x1 linear projection, each with BN; ReLU after the
 * first two; a residual connection when stride 1 and widths match) with settings (t, c, n, s) = (1,16,1,1),
 * (6,24,2,1), (6,32,3,2), (6,64,4,2), (6,96,3,1), (6,160,3,2), (6,320,1,1), channel counts scaled by the width
 * multiplier (truncated), a 1x1 convolution to 1280 channels (1280 x width when the width exceeds 1), global average
 * pooling and a dense layer. The benchmark "MobileNetV2" student is width 0.5 (0.81 M parameters for 100 classes).
 *
 * <p>Feature points: {@code stem} (after its ReLU), {@code stage1..4} after the 24-, 32-, 96- and 320-channel
 * groups (linear bottlenecks: no ReLU ends them, so there is no {@code _pre} point), {@code pooled} (after the 1x1
 * head), {@code logits}.
 */
final class MobileNetV2 extends ImageModel {
  private static final int[][] SETTINGS = {
    {1, 16, 1, 1}, {6, 24, 2, 1}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}
  };
  private final double width;

  MobileNetV2(double width, long[] inputShape, int numClasses) {
    super(String.format(Locale.ROOT, "mobilenetv2-w%s", trim(width)), inputShape, numClasses);
    if (!(width > 0) || width > 4) {
      throw new IllegalArgumentException("mobilenetv2 width multiplier must be in (0, 4], got " + width);
    }
    if ((int) (16 * width) < 1) {
      throw new IllegalArgumentException("mobilenetv2 width multiplier " + width + " leaves layers with no channels");
    }
    this.width = width;
  }

  private static String trim(double w) {
    return w == Math.rint(w) ? Long.toString((long) w) : Double.toString(w);
  }

  @Override
  Operand<TFloat32> body(Layers l, Operand<TFloat32> x) {
    Operand<TFloat32> h =
        l.feature(FeaturePoint.STEM, l.relu(l.batchNorm("stem_bn", l.conv("stem_conv", x, 3, (int) (32 * width), 2, false))));
    int stage = 0;
    for (int s = 0; s < SETTINGS.length; s++) {
      int t = SETTINGS[s][0];
      int out = (int) (SETTINGS[s][1] * width);
      for (int i = 0; i < SETTINGS[s][2]; i++) {
        h = invertedResidual("block" + s + "_" + i, l, h, out, i == 0 ? SETTINGS[s][3] : 1, t);
      }
      // Stages end where the reference's features are read: after the 24-, 32-, 96- and 320-channel groups.
      if (s == 1 || s == 2 || s == 4 || s == 6) {
        l.feature(FeaturePoint.stage(++stage), h);
      }
    }
    int last = width > 1.0 ? (int) (1280 * width) : 1280;
    h = l.relu(l.batchNorm("head_bn", l.conv("head_conv", h, 1, last, 1, false)));
    return l.logits("classifier", l.feature(FeaturePoint.POOLED, l.globalAvgPool(h)), numClasses());
  }

  private static Operand<TFloat32> invertedResidual(
      String p, Layers l, Operand<TFloat32> x, int out, int stride, int expand) {
    int in = Layers.dim(x, 3);
    Operand<TFloat32> h = l.relu(l.batchNorm(p + "_expand_bn", l.conv(p + "_expand", x, 1, in * expand, 1, false)));
    h = l.relu(l.batchNorm(p + "_dw_bn", l.depthwise(p + "_dw", h, 3, stride)));
    h = l.batchNorm(p + "_project_bn", l.conv(p + "_project", h, 1, out, 1, false));
    return stride == 1 && in == out ? l.tf().math.add(x, h) : h;
  }
}
