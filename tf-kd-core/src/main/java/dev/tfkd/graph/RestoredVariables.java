package dev.tfkd.graph;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Creates a model's variables without initial values, for an inference graph whose session restores them from a
 * checkpoint. The graph then holds nothing but the forward pass and its variables: no initializer constants, no
 * optimizer state, which is what an export should contain.
 */
public final class RestoredVariables implements Variables {
  private final Set<String> names = new LinkedHashSet<>();

  @Override
  public Operand<TFloat32> weight(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut) {
    return tf.identity(state(tf, name, shape, init));
  }

  @Override
  public Variable<TFloat32> state(Ops tf, String name, Shape shape, Init init) {
    TrainingVariables.checkName(names, name);
    return tf.withName(name).variable(shape, TFloat32.class);
  }

  /**
   * Names of the variables created, in creation order (what {@link InferenceModel#variableValues()} lists them in),
   * as an unmodifiable copy.
   */
  public Set<String> names() {
    // Set.copyOf would lose the order: its iteration order is unspecified.
    return Collections.unmodifiableSet(new LinkedHashSet<>(names));
  }
}
