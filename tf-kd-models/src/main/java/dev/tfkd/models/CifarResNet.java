package dev.tfkd.models;

import dev.tfkd.graph.FeaturePoint;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * The CIFAR ResNets of He et al. 2016 as the distillation benchmarks define them (CRD/RepDistiller, DKD/mdistiller):
 * depth 6n+2 of basic blocks in three stages of n blocks, widths {@code [w0, w1, w2, w3]} ({@code [16, 16, 32, 64]}
 * for resnet8..110, {@code [32, 64, 128, 256]} for the "x4" variants). A 3x3 stem convolution without bias, batch
 * norm and ReLU; each block conv-BN-ReLU-conv-BN plus the shortcut (1x1 strided convolution and BN where the shape
 * changes), then ReLU; stages 2 and 3 halve the resolution. Global average pooling and a dense layer to K logits.
 *
 * <p>Feature points ({@link FeaturePoint}): {@code stem} (after the stem's ReLU); {@code stage1..3} (the last
 * block's output after its ReLU) and {@code stage1_pre..stage3_pre} (the residual sum before it; its batch-norm
 * parameters are the last block's second BN, as OFD's reference takes them); {@code pooled};
 * {@code logits}. As RepDistiller's {@code is_feat} features; on 32x32x3 resnet8x4 and resnet32x4 give stem
 * [32, 32, 32], stage1 [32, 32, 64], stage2 [16, 16, 128], stage3 [8, 8, 256], pooled [256].
 */
final class CifarResNet extends ImageModel {
  private final int blocks;
  private final int[] widths;

  CifarResNet(String name, int depth, int[] widths, long[] inputShape, int numClasses) {
    super(name, inputShape, numClasses);
    if (depth < 8 || (depth - 2) % 6 != 0) {
      throw new IllegalArgumentException(name + ": depth must be 6n+2 >= 8, got " + depth);
    }
    this.blocks = (depth - 2) / 6;
    this.widths = widths.clone();
  }

  @Override
  Operand<TFloat32> body(Layers l, Operand<TFloat32> x) {
    Operand<TFloat32> h = l.feature("stem", l.relu(l.batchNorm("bn1", l.conv("conv1", x, 3, widths[0], 1, false))));
    for (int stage = 1; stage <= 3; stage++) {
      for (int b = 0; b < blocks; b++) {
        int stride = stage > 1 && b == 0 ? 2 : 1;
        Operand<TFloat32> pre = block("layer" + stage + "_" + b, l, h, widths[stage], stride);
        if (b == blocks - 1) {
          l.feature(FeaturePoint.stagePre(stage), pre);
          // The residual sum's distribution is taken from the block's last BN, as OFD's reference does.
          l.featureBatchNorm(FeaturePoint.stagePre(stage), "layer" + stage + "_" + b + "_bn2");
        }
        h = l.relu(pre);
      }
      l.feature(FeaturePoint.stage(stage), h);
    }
    return l.logits("fc", l.feature(FeaturePoint.POOLED, l.globalAvgPool(h)), numClasses());
  }

  /** The block's output before its final ReLU. */
  private static Operand<TFloat32> block(String p, Layers l, Operand<TFloat32> x, int planes, int stride) {
    Operand<TFloat32> out = l.relu(l.batchNorm(p + "_bn1", l.conv(p + "_conv1", x, 3, planes, stride, false)));
    out = l.batchNorm(p + "_bn2", l.conv(p + "_conv2", out, 3, planes, 1, false));
    Operand<TFloat32> shortcut = x;
    if (stride != 1 || Layers.dim(x, 3) != planes) {
      shortcut = l.batchNorm(p + "_down_bn", l.conv(p + "_down_conv", x, 1, planes, stride, false));
    }
    return l.tf().math.add(out, shortcut);
  }
}
