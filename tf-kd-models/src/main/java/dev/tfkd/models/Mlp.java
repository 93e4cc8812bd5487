package dev.tfkd.models;

import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.Init;
import dev.tfkd.graph.Variables;
import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.random.RandomUniform;
import org.tensorflow.types.TFloat32;

/**
 * A multi-layer perceptron: inputs flattened, then dense layers with ReLU, then a dense layer to K logits.
 * He-normal kernels, zero biases; optional dropout after each hidden layer in training mode. Feature points:
 * {@code pooled} (the vector the classifier reads: the last hidden layer, or the flattened input without one) and
 * {@code logits}.
 *
 * @param inputShape the shape of one example (flattened on entry)
 * @param hidden the widths of the hidden layers, e.g. {@code [256, 256]}: at most {@value Models#MAX_MLP_LAYERS}
 *     layers, each 1 to {@value Models#MAX_MLP_WIDTH} wide
 * @param numClasses K
 * @param dropout the probability of dropping a hidden unit while training, in [0, 1)
 */
public record Mlp(long[] inputShape, int[] hidden, int numClasses, float dropout) implements Architecture {

  /**
   * Validates the shape; throws IllegalArgumentException for no class, or too many or too wide hidden layers, or a
   * dropout outside [0, 1).
   */
  public Mlp {
    inputShape = inputShape.clone();
    hidden = hidden.clone();
    if (numClasses < 1) {
      throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
    }
    if (hidden.length > Models.MAX_MLP_LAYERS) {
      throw new IllegalArgumentException("at most " + Models.MAX_MLP_LAYERS + " hidden layers, got " + hidden.length);
    }
    for (int h : hidden) {
      if (h < 1 || h > Models.MAX_MLP_WIDTH) {
        throw new IllegalArgumentException(
            "hidden widths must be in [1, " + Models.MAX_MLP_WIDTH + "], got " + Arrays.toString(hidden));
      }
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
    }
  }

  /** An MLP without dropout. */
  public static Mlp of(int inputs, int numClasses, int... hidden) {
    return new Mlp(new long[] {inputs}, hidden, numClasses, 0f);
  }

  @Override
  public long[] inputShape() {
    return inputShape.clone();
  }

  @Override
  public String name() {
    long in = Arrays.stream(inputShape).reduce(1, (a, b) -> a * b);
    return "mlp-" + in + IntStream.of(hidden).mapToObj(h -> "-" + h).collect(Collectors.joining()) + "-" + numClasses;
  }

  @Override
  public Forward build(Ops tf, Operand<TFloat32> inputs, Variables vars, Mode mode) {
    long in = Arrays.stream(inputShape).reduce(1, (a, b) -> a * b);
    Operand<TFloat32> h = tf.reshape(inputs, tf.constant(new long[] {-1, in}));
    int width = (int) in;
    for (int i = 0; i < hidden.length; i++) {
      h = tf.nn.relu(dense(tf, vars, "dense" + i, h, width, hidden[i]));
      if (mode == Mode.TRAINING && dropout > 0) {
        h = dropout(tf, h, i);
      }
      width = hidden[i];
    }
    // The vector the classifier reads; an MLP without hidden layers reads its flattened input.
    return new Forward(
        dense(tf, vars, "logits", h, width, numClasses), java.util.List.of(), java.util.Map.of(dev.tfkd.graph.FeaturePoint.POOLED, h));
  }

  static Operand<TFloat32> dense(Ops tf, Variables vars, String name, Operand<TFloat32> x, int in, int out) {
    Operand<TFloat32> w = vars.weight(tf, name + "_kernel", Shape.of(in, out), Init.HE_NORMAL, in, out);
    Operand<TFloat32> b = vars.weight(tf, name + "_bias", Shape.of(out), Init.ZEROS, in, out);
    return tf.nn.biasAdd(tf.linalg.matMul(x, w), b);
  }

  private Operand<TFloat32> dropout(Ops tf, Operand<TFloat32> h, int layer) {
    float keep = 1f - dropout;
    Operand<TFloat32> u =
        tf.random.randomUniform(tf.shape(h), TFloat32.class, RandomUniform.seed(17L + layer).seed2(31L * layer + 7));
    Operand<TFloat32> mask = tf.math.floor(tf.math.add(u, tf.constant(keep)));
    return tf.math.mul(h, tf.math.div(mask, tf.constant(keep)));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Mlp m
        && Arrays.equals(inputShape, m.inputShape)
        && Arrays.equals(hidden, m.hidden)
        && numClasses == m.numClasses
        && dropout == m.dropout;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(inputShape) * 31 + Arrays.hashCode(hidden) * 7 + numClasses + Float.hashCode(dropout);
  }

  @Override
  public String toString() {
    return name();
  }
}
