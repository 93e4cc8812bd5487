package dev.tfkd.models;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * The benchmark CNN: conv 3x3x32 (same, ReLU), conv 3x3x64 (same, ReLU), 2x2 max pooling, dense to K logits.
 * On 28x28x1 inputs and 10 classes it has 144,266 parameters.
 */
final class SmallCnn extends ImageModel {
  SmallCnn(long[] inputShape, int numClasses) {
    super("cnn", inputShape, numClasses);
  }

  @Override
  Operand<TFloat32> body(Layers l, Operand<TFloat32> x) {
    Operand<TFloat32> h = l.relu(l.conv("conv1", x, 3, 32, 1, true));
    h = l.relu(l.conv("conv2", h, 3, 64, 1, true));
    h = l.maxPool(h, 2);
    return l.logits("logits", l.flatten(h), numClasses());
  }
}
