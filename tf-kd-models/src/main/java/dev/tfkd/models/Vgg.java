package dev.tfkd.models;

import dev.tfkd.graph.FeaturePoint;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * VGG with batch normalisation (Simonyan and Zisserman 2015) as the distillation benchmarks define it for CIFAR:
 * five blocks of 3x3 convolutions (with bias) + BN + ReLU, max pooling after the first three blocks (and the fourth
 * when the input is 64 pixels or more), global average pooling, one dense layer to K logits. Block widths 64, 128,
 * 256, 512, 512; convolutions per block: VGG-8 {1,1,1,1,1}, VGG-11 {1,1,2,2,2}, VGG-13 {2,2,2,2,2}.
 *
 * <p>Feature points: {@code stem} (block 0), {@code stage1..4} (blocks 1 to 4 after their last ReLU, before
 * pooling) and {@code stage1_pre..stage4_pre} (before that ReLU), {@code pooled}, {@code logits}.
 */
final class Vgg extends ImageModel {
  private static final int[] WIDTHS = {64, 128, 256, 512, 512};
  private final int[] convs;

  Vgg(String name, int[] convsPerBlock, long[] inputShape, int numClasses) {
    super(name, inputShape, numClasses);
    this.convs = convsPerBlock.clone();
  }

  @Override
  Operand<TFloat32> body(Layers l, Operand<TFloat32> x) {
    Operand<TFloat32> h = x;
    for (int b = 0; b < 5; b++) {
      for (int c = 0; c < convs[b]; c++) {
        String p = "block" + b + "_" + c;
        Operand<TFloat32> pre = l.batchNorm(p + "_bn", l.conv(p + "_conv", h, 3, WIDTHS[b], 1, true));
        if (c == convs[b] - 1 && b > 0) {
          l.feature(FeaturePoint.stagePre(b), pre);
          l.featureBatchNorm(FeaturePoint.stagePre(b), p + "_bn");
        }
        h = l.relu(pre);
      }
      // Block 0 is the stem; blocks 1..4 are the stages (RepDistiller's f0..f4), before their pooling.
      l.feature(b == 0 ? FeaturePoint.STEM : FeaturePoint.stage(b), h);
      if (b < 3 || (b == 3 && height() >= 64)) {
        h = l.maxPool(h, 2);
      }
    }
    return l.logits("classifier", l.feature(FeaturePoint.POOLED, l.globalAvgPool(h)), numClasses());
  }
}
