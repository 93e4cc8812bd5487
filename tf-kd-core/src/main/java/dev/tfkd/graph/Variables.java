package dev.tfkd.graph;

import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * The source of a model's variables while its graph is built. {@link TrainingVariables} creates them with seeded
 * initial values and records which are trainable; {@link RestoredVariables} creates them empty, to be filled from a
 * checkpoint. Names must be unique within a model and contain no {@code /}.
 */
public interface Variables {

  /**
   * A trainable weight. Returns a read of the variable ({@code Identity}), never the variable itself: ops applied
   * directly to a {@code VariableV2} can crash gradient construction.
   *
   * @param fanIn inputs per output unit, for the initializer
   * @param fanOut outputs per input unit, for the initializer
   */
  Operand<TFloat32> weight(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut);

  /**
   * A trainable weight whose elements all start at {@code value} (a parameter with a prescribed starting point, such
   * as a variance that must start at 5). Returns a read of the variable, as {@link #weight} does. The default suits
   * sources that take their values from elsewhere (a checkpoint, a frozen model, shared weights) and asks {@link
   * #weight} for the name; a source that draws starting values overrides it.
   *
   * @param value the starting value of every element
   */
  default Operand<TFloat32> filledWeight(Ops tf, String name, Shape shape, float value) {
    return weight(tf, name, shape, Init.ZEROS, 1, 1);
  }

  /**
   * A non-trainable state variable (e.g. a batch-norm moving average), returned as the variable itself so the
   * caller can assign to it.
   */
  Variable<TFloat32> state(Ops tf, String name, Shape shape, Init init);

  /**
   * A non-trainable state variable whose initializer needs fans (e.g. a memory bank drawn uniformly in {@code
   * +-sqrt(6 / (fanIn + fanOut))}). The default ignores the fans; sources that draw initial values use them.
   *
   * @param fanIn inputs per output unit, for the initializer
   * @param fanOut outputs per input unit, for the initializer
   */
  default Variable<TFloat32> state(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut) {
    return state(tf, name, shape, init);
  }
}
