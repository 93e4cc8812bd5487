package dev.tfkd.models;

import dev.tfkd.graph.FeaturePoint;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * LeNet-5 (LeCun et al. 1998) with ReLU and max pooling: conv 5x5x6 (same padding, so 28x28 MNIST digits play the
 * role of the original 32x32 padded ones), pool 2, conv 5x5x16 (valid), pool 2, dense 120, dense 84, dense K.
 * 61,706 parameters on 28x28x1 with 10 classes. Needs inputs of at least 12x12.
 *
 * <p>Feature points: {@code stage1} and {@code stage2} (after each convolution's ReLU and pooling), {@code pooled}
 * (the 84-unit layer the classifier reads), {@code logits}.
 */
final class LeNet5 extends ImageModel {
  LeNet5(long[] inputShape, int numClasses) {
    super("lenet5", inputShape, numClasses);
    if (inputShape[0] < 12 || inputShape[1] < 12) {
      throw new IllegalArgumentException("lenet5 needs images of at least 12x12, got " + inputShape[0] + "x" + inputShape[1]);
    }
  }

  @Override
  Operand<TFloat32> body(Layers l, Operand<TFloat32> x) {
    Operand<TFloat32> h = l.feature(FeaturePoint.stage(1), l.maxPool(l.relu(l.conv("conv1", x, 5, 6, 1, true)), 2));
    h = l.feature(FeaturePoint.stage(2), l.maxPool(l.relu(l.convValid("conv2", h, 5, 16)), 2));
    h = l.relu(l.dense("fc1", l.flatten(h), 120));
    h = l.relu(l.dense("fc2", h, 84));
    return l.logits("logits", l.feature(FeaturePoint.POOLED, h), numClasses());
  }
}
