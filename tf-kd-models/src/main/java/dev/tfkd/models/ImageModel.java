package dev.tfkd.models;

import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.Variables;
import java.util.Arrays;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The common part of the zoo's convolutional networks: NHWC images of a fixed {@code [H, W, C]}, K classes, and a
 * body built from {@link Layers}. Immutable; subclasses hold only their configuration.
 */
abstract class ImageModel implements Architecture {
  private final String name;
  private final long[] inputShape;
  private final int numClasses;

  ImageModel(String name, long[] inputShape, int numClasses) {
    this.name = name;
    this.inputShape = Layers.imageShape(inputShape, name);
    if (numClasses < 1) {
      throw new IllegalArgumentException(name + ": numClasses must be >= 1, got " + numClasses);
    }
    this.numClasses = numClasses;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final long[] inputShape() {
    return inputShape.clone();
  }

  @Override
  public final int numClasses() {
    return numClasses;
  }

  final int height() {
    return (int) inputShape[0];
  }

  @Override
  public final Forward build(Ops tf, Operand<TFloat32> inputs, Variables vars, Mode mode) {
    Layers l = new Layers(tf, vars, mode);
    return l.forward(body(l, inputs));
  }

  /** The forward pass from images to logits. */
  abstract Operand<TFloat32> body(Layers l, Operand<TFloat32> x);

  @Override
  public boolean equals(Object o) {
    return o != null
        && o.getClass() == getClass()
        && ((ImageModel) o).name.equals(name)
        && Arrays.equals(((ImageModel) o).inputShape, inputShape)
        && ((ImageModel) o).numClasses == numClasses;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(inputShape) * 7 + numClasses;
  }

  @Override
  public String toString() {
    return name + Arrays.toString(inputShape) + "->" + numClasses;
  }
}
