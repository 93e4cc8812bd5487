package dev.tfkd.graph;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Supplies a model's variables as fixed values: weights become graph constants, state (e.g. batch-norm moving
 * averages) becomes a variable initialised to its value. Building an architecture with it in inference mode adds a
 * frozen copy of a trained model to any graph, for instance a teacher's forward pass inside a student's training
 * graph: nothing in it is trainable and no checkpoint has to be restored.
 */
public final class FrozenVariables implements Variables {
  private final Map<String, Value> values;
  private final Set<String> used = new LinkedHashSet<>();

  /**
   * One variable's value.
   *
   * @param shape its shape
   * @param data {@code shape.size()} values, row-major
   */
  public record Value(Shape shape, float[] data) {
    /** Validates the value; throws IllegalArgumentException when the shape's size differs from the data length. */
    public Value {
      Objects.requireNonNull(shape, "shape");
      Objects.requireNonNull(data, "data");
      if (shape.size() != data.length) {
        throw new IllegalArgumentException("shape " + shape + " holds " + shape.size() + " values, not " + data.length);
      }
    }
  }

  /** @param values every variable the architecture asks for, by name; the arrays are not copied */
  public FrozenVariables(Map<String, Value> values) {
    this.values = Map.copyOf(values);
  }

  @Override
  public Operand<TFloat32> weight(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut) {
    Value v = lookup(name, shape);
    return tf.withName(name).constant(shape, DataBuffers.of(v.data(), true, false));
  }

  @Override
  public Variable<TFloat32> state(Ops tf, String name, Shape shape, Init init) {
    Value v = lookup(name, shape);
    return tf.withName(name).variable(tf.constant(shape, DataBuffers.of(v.data(), true, false)));
  }

  /** The names asked for so far, in order. */
  public Set<String> used() {
    return Set.copyOf(used);
  }

  private Value lookup(String name, Shape shape) {
    TrainingVariables.checkName(used, name);
    Value v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no value for variable " + name + "; have " + values.keySet());
    }
    if (!v.shape().equals(shape)) {
      throw new IllegalArgumentException("variable " + name + " has shape " + v.shape() + ", the model wants " + shape);
    }
    return v;
  }
}
