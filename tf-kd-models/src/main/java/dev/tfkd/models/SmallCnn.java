package dev.tfkd.models;

import dev.tfkd.graph.FeaturePoint;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * The benchmark CNN: conv 3x3x32 (same, ReLU), conv 3x3x64 (same, ReLU), 2x2 max pooling, dense to K logits.
 * On 28x28x1 inputs and 10 classes it has 144,266 parameters.
 *
 * <p>Feature points: {@code stage1}, {@code stage2} (after each convolution's ReLU) and {@code stage1_pre}, {@code
 * stage2_pre} (before it), {@code pooled} (the flattened pooled map the classifier reads), {@code logits}.
 */
final class SmallCnn extends ImageModel {
  SmallCnn(long[] inputShape, int numClasses) {
    super("cnn", inputShape, numClasses);
  }

  @Override
  Operand<TFloat32> body(Layers l, Operand<TFloat32> x) {
    Operand<TFloat32> pre = l.feature(FeaturePoint.stagePre(1), l.conv("conv1", x, 3, 32, 1, true));
    Operand<TFloat32> h = l.feature(FeaturePoint.stage(1), l.relu(pre));
    pre = l.feature(FeaturePoint.stagePre(2), l.conv("conv2", h, 3, 64, 1, true));
    h = l.feature(FeaturePoint.stage(2), l.relu(pre));
    h = l.maxPool(h, 2);
    return l.logits("logits", l.feature(FeaturePoint.POOLED, l.flatten(h)), numClasses());
  }
}
