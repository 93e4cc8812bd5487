package dev.tfkd.teacher;

import dev.tfkd.data.Dataset;
import dev.tfkd.training.FrozenTeacher;
import dev.tfkd.training.Trainer;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A frozen in-graph teacher ({@link FrozenTeacher}: an architecture and its weights as constants) as a {@link
 * Teacher}: its logits come from its own session, and {@link #logits(Ops, Operand)} builds its forward pass into
 * another graph (an online teacher that sees each batch exactly as the student does).
 */
public final class GraphTeacher implements Teacher {
  /** Examples per batch when computing logits for a dataset. */
  public static final int BATCH = 512;

  private final FrozenTeacher frozen;
  private final int threads;

  private GraphTeacher(FrozenTeacher frozen, int threads) {
    this.frozen = Objects.requireNonNull(frozen, "frozen");
    this.threads = threads;
  }

  /** {@code frozen} as a teacher that computes logits with TensorFlow's default threads. */
  public static GraphTeacher of(FrozenTeacher frozen) {
    return new GraphTeacher(frozen, 0);
  }

  /** This teacher computing its logits with {@code threads} intra-op threads (0: TensorFlow's default). */
  public GraphTeacher withThreads(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("threads must be >= 0, got " + threads);
    }
    return new GraphTeacher(frozen, threads);
  }

  /** The frozen model behind this teacher. */
  public FrozenTeacher frozen() {
    return frozen;
  }

  @Override
  public int numClasses() {
    return frozen.numClasses();
  }

  @Override
  public long[] inputShape() {
    return frozen.architecture().inputShape().clone();
  }

  @Override
  public float[] logits(Dataset data) {
    return frozen.logits(data, BATCH, Trainer.sessionConfig(threads));
  }

  /** Adds the teacher's forward pass on {@code inputs} to the graph of {@code tf}; no gradient flows into it. */
  public Operand<TFloat32> logits(Ops tf, Operand<TFloat32> inputs) {
    return frozen.logits(tf, inputs);
  }

  /** The architecture's name and the weights' fingerprint. */
  @Override
  public String source() {
    return frozen.architecture().name() + " (" + frozen.fingerprint().substring(0, 12) + ")";
  }
}
