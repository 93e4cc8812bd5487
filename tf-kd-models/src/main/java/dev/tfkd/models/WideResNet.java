package dev.tfkd.models;

import dev.tfkd.graph.FeaturePoint;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * Wide ResNets (Zagoruyko and Komodakis 2016), WRN-depth-k as the distillation benchmarks define them: depth 6n+4,
 * widths {@code [16, 16k, 32k, 64k]}, pre-activation basic blocks (BN-ReLU-conv-BN-ReLU-conv) with a 1x1
 * convolution on the shortcut where the width changes, a 3x3 stem without bias, final BN and ReLU, global average
 * pooling, dense to K logits. No dropout (the benchmarks train with dropout 0).
 *
 * <p>Feature points ({@link FeaturePoint}): {@code stem} (the first convolution: a pre-activation network has no
 * stem ReLU); {@code stage1..3}: each stage's residual sum, which no ReLU follows inside the stage (RepDistiller's
 * {@code is_feat} features); {@code stage1_pre..stage3_pre}: that sum batch-normalised by the next stage's first
 * block ({@code bn_final} for stage 3), the value its ReLU reads (RepDistiller's {@code preact=True} features, the
 * points OFD's margin is computed at, with that BN's parameters); {@code pooled}; {@code logits}. On 32x32x3 wrn_40_2 gives stem [32, 32, 16],
 * stage1 [32, 32, 32], stage2 [16, 16, 64], stage3 [8, 8, 128], pooled [128].
 */
final class WideResNet extends ImageModel {
  private final int blocks;
  private final int[] widths;

  WideResNet(String name, int depth, int widen, long[] inputShape, int numClasses) {
    super(name, inputShape, numClasses);
    if (depth < 10 || (depth - 4) % 6 != 0) {
      throw new IllegalArgumentException(name + ": depth must be 6n+4 >= 10, got " + depth);
    }
    this.blocks = (depth - 4) / 6;
    this.widths = new int[] {16, 16 * widen, 32 * widen, 64 * widen};
  }

  @Override
  Operand<TFloat32> body(Layers l, Operand<TFloat32> x) {
    Operand<TFloat32> h = l.feature("stem", l.conv("conv1", x, 3, widths[0], 1, false));
    for (int stage = 1; stage <= 3; stage++) {
      for (int b = 0; b < blocks; b++) {
        int stride = stage > 1 && b == 0 ? 2 : 1;
        // The first block of stages 2 and 3 batch-normalises the previous stage's sum: that is its pre-ReLU point.
        String pre = stage > 1 && b == 0 ? FeaturePoint.stagePre(stage - 1) : null;
        h = block("block" + stage + "_" + b, l, h, widths[stage], stride, pre);
      }
      l.feature(FeaturePoint.stage(stage), h);
    }
    h = l.relu(l.feature(FeaturePoint.stagePre(3), l.batchNorm("bn_final", h)));
    l.featureBatchNorm(FeaturePoint.stagePre(3), "bn_final");
    return l.logits("fc", l.feature(FeaturePoint.POOLED, l.globalAvgPool(h)), numClasses());
  }

  private static Operand<TFloat32> block(String p, Layers l, Operand<TFloat32> x, int out, int stride, String prePoint) {
    boolean sameWidth = Layers.dim(x, 3) == out;
    Operand<TFloat32> bn = l.batchNorm(p + "_bn1", x);
    if (prePoint != null) {
      l.feature(prePoint, bn);
      l.featureBatchNorm(prePoint, p + "_bn1");
    }
    Operand<TFloat32> act = l.relu(bn);
    Operand<TFloat32> h = l.conv(p + "_conv1", act, 3, out, stride, false);
    h = l.conv(p + "_conv2", l.relu(l.batchNorm(p + "_bn2", h)), 3, out, 1, false);
    // As in the reference: when the width changes, the shortcut convolution sees the pre-activated input.
    Operand<TFloat32> shortcut = sameWidth ? x : l.conv(p + "_shortcut", act, 1, out, stride, false);
    return l.tf().math.add(shortcut, h);
  }
}
