package dev.tfkd.graph;

import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/** Counts an architecture's trainable scalars by building its inference graph without initial values. */
public final class ParameterCount {
  private ParameterCount() {}

  /**
   * The number of trainable scalars of {@code architecture} (kernels, biases, batch-norm scales and shifts; not
   * the moving averages).
   */
  public static long of(Architecture architecture) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x =
          tf.placeholder(TFloat32.class, Placeholder.shape(InferenceModel.batchShape(architecture.inputShape())));
      Counting vars = new Counting();
      architecture.build(tf, x, vars, Architecture.Mode.INFERENCE);
      return vars.count();
    }
  }

  /**
   * Variables that count the trainable scalars asked for and create nothing with a value (placeholders stand in for
   * weights), so counting allocates nothing however large the model. The count saturates at {@code Long.MAX_VALUE}.
   */
  public static final class Counting implements Variables {
    private final RestoredVariables delegate = new RestoredVariables();
    private long count;

    /** The trainable scalars asked for so far. */
    public long count() {
      return count;
    }

    @Override
    public Operand<TFloat32> weight(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut) {
      long sum = count + shape.size();
      count = sum < 0 ? Long.MAX_VALUE : sum;
      return delegate.weight(tf, name, shape, init, fanIn, fanOut);
    }

    @Override
    public Variable<TFloat32> state(Ops tf, String name, Shape shape, Init init) {
      return delegate.state(tf, name, shape, init);
    }
  }
}
