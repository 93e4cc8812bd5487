package dev.tfkd.graph;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Creates a model's variables for training, with initial values drawn in Java from {@code seed} and the variable's
 * name (so adding a layer does not change the others' starting values). Keeps the list of trainable variables:
 * that list, and nothing else, is what an optimizer may update. Alternatively starts every variable from given
 * values by name (fine-tuning a trained model); then a variable missing from them, or of another size, is an
 * error. Not thread-safe; use while building one graph.
 */
public final class TrainingVariables implements Variables {
  private final long seed;
  private final List<Variable<TFloat32>> trainable = new ArrayList<>();
  private final Set<String> names = new LinkedHashSet<>();
  private final Map<String, Variable<TFloat32>> all = new LinkedHashMap<>();
  private final Map<String, float[]> initialValues;

  /** Seeded initial values. */
  public TrainingVariables(long seed) {
    this(seed, Map.of());
  }

  /**
   * Starting values taken from {@code initialValues} by variable name when it is not empty (fine-tuning), seeded
   * ones otherwise.
   */
  public TrainingVariables(long seed, Map<String, float[]> initialValues) {
    this.seed = seed;
    this.initialValues = Map.copyOf(initialValues);
  }

  /**
   * Checks, after the model is built, that every given starting value was used: a leftover name means the values
   * came from another architecture.
   */
  public void checkAllInitialValuesUsed() {
    if (!initialValues.isEmpty() && !names.containsAll(initialValues.keySet())) {
      Set<String> unused = new java.util.TreeSet<>(initialValues.keySet());
      unused.removeAll(names);
      throw new IllegalArgumentException("starting values for variables the model does not have: " + unused);
    }
  }

  @Override
  public Operand<TFloat32> weight(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut) {
    Variable<TFloat32> v = create(tf, name, shape, init, fanIn, fanOut);
    trainable.add(v);
    return tf.identity(v);
  }

  @Override
  public Operand<TFloat32> filledWeight(Ops tf, String name, Shape shape, float value) {
    Variable<TFloat32> v = create(tf, name, shape, rng -> {
      float[] values = new float[(int) shape.size()];
      java.util.Arrays.fill(values, value);
      return values;
    });
    trainable.add(v);
    return tf.identity(v);
  }

  @Override
  public Variable<TFloat32> state(Ops tf, String name, Shape shape, Init init) {
    return create(tf, name, shape, init, 1, 1);
  }

  @Override
  public Variable<TFloat32> state(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut) {
    return create(tf, name, shape, init, fanIn, fanOut);
  }

  /** The trainable variables, in creation order. */
  public List<Variable<TFloat32>> trainable() {
    return List.copyOf(trainable);
  }

  /**
   * A source that hands out the variables this one created, by name, instead of creating new ones: building the
   * architecture a second time with it (e.g. in inference mode, for validation) shares the weights being trained.
   * Asking for a name this source never created is an error.
   */
  public Variables shared() {
    return new Variables() {
      @Override
      public Operand<TFloat32> weight(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut) {
        return tf.identity(state(tf, name, shape, init));
      }

      @Override
      public Variable<TFloat32> state(Ops tf, String name, Shape shape, Init init) {
        Variable<TFloat32> v = all.get(name);
        if (v == null) {
          throw new IllegalStateException("no variable " + name + " was created for training");
        }
        return v;
      }
    };
  }

  private Variable<TFloat32> create(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut) {
    return create(tf, name, shape, rng -> init.values((int) shape.size(), fanIn, fanOut, rng));
  }

  /** A variable whose seeded starting values {@code draw} makes (unless starting values were given by name). */
  private Variable<TFloat32> create(
      Ops tf, String name, Shape shape, java.util.function.Function<SplittableRandom, float[]> draw) {
    checkName(names, name);
    float[] values;
    if (initialValues.isEmpty()) {
      values = draw.apply(new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode()));
    } else {
      values = initialValues.get(name);
      if (values == null) {
        throw new IllegalArgumentException("no starting value for variable " + name);
      }
      if (values.length != shape.size()) {
        throw new IllegalArgumentException(
            "starting value for " + name + " holds " + values.length + " values; shape " + shape + " needs "
                + shape.size());
      }
    }
    Operand<TFloat32> initial = tf.constant(shape, DataBuffers.of(values, true, false));
    Variable<TFloat32> v = tf.withName(name).variable(initial);
    if (!v.op().name().endsWith(name)) {
      throw new IllegalStateException("variable name " + name + " was taken: got " + v.op().name());
    }
    all.put(name, v);
    return v;
  }

  static void checkName(Set<String> names, String name) {
    if (name.contains("/")) {
      throw new IllegalArgumentException("variable names may not contain '/': " + name);
    }
    if (!names.add(name)) {
      throw new IllegalArgumentException("duplicate variable name: " + name);
    }
  }
}
