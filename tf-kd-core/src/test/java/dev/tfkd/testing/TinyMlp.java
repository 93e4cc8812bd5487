package dev.tfkd.testing;

import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.Init;
import dev.tfkd.graph.Variables;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** A one-hidden-layer MLP for core's own tests (the zoo lives in tf-kd-models, which core cannot see). */
public record TinyMlp(int inputs, int hidden, int numClasses) implements Architecture {
  @Override
  public String name() {
    return "tiny-" + inputs + "-" + hidden + "-" + numClasses;
  }

  @Override
  public long[] inputShape() {
    return new long[] {inputs};
  }

  @Override
  public Forward build(Ops tf, Operand<TFloat32> x, Variables vars, Mode mode) {
    Operand<TFloat32> w1 = vars.weight(tf, "w1", Shape.of(inputs, hidden), Init.HE_NORMAL, inputs, hidden);
    Operand<TFloat32> b1 = vars.weight(tf, "b1", Shape.of(hidden), Init.ZEROS, inputs, hidden);
    Operand<TFloat32> w2 = vars.weight(tf, "w2", Shape.of(hidden, numClasses), Init.GLOROT_UNIFORM, hidden, numClasses);
    Operand<TFloat32> b2 = vars.weight(tf, "b2", Shape.of(numClasses), Init.ZEROS, hidden, numClasses);
    Operand<TFloat32> h = tf.nn.relu(tf.nn.biasAdd(tf.linalg.matMul(x, w1), b1));
    return Forward.of(tf.nn.biasAdd(tf.linalg.matMul(h, w2), b2));
  }
}
