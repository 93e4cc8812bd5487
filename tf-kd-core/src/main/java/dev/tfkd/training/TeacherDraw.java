package dev.tfkd.training;

import dev.tfkd.graph.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TInt32;

/**
 * The teacher of each training batch for {@link TeacherCombination.Mode#RANDOM}: a {@link TrainingHook} that feeds
 * an int32 scalar {@code teacher_choice} with every step. The teacher of epoch {@code e}, step {@code s} is drawn
 * uniformly from a generator seeded by a mix of the seed, {@code e} and {@code s} ({@link #choice}), so it depends
 * on nothing else: a run resumed at an epoch boundary draws exactly what the uninterrupted run drew. One draw serves
 * one training graph. Not thread-safe.
 */
public final class TeacherDraw implements TrainingHook {
  private final long seed;
  private final int teachers;
  private Placeholder<TInt32> placeholder;
  private final List<TInt32> values = new ArrayList<>();
  private int epoch;
  private int step;
  private final List<Integer> drawn = new ArrayList<>();

  /**
   * @param seed the run's seed
   * @param teachers M, at least 1
   */
  public TeacherDraw(long seed, int teachers) {
    if (teachers < 1) {
      throw new IllegalArgumentException("a draw needs at least one teacher, got " + teachers);
    }
    this.seed = seed;
    this.teachers = teachers;
  }

  /**
   * The teacher drawn for step {@code step} of epoch {@code epoch}, in {@code [0, teachers)}.
   *
   * @return the teacher's index
   */
  public static int choice(long seed, int epoch, int step, int teachers) {
    long mixed = seed * 0x9E3779B97F4A7C15L + ((long) epoch << 32 | (step & 0xFFFFFFFFL));
    return new SplittableRandom(mixed ^ 0x7EAC4E25D1A5B7C3L).nextInt(teachers);
  }

  /** Creates the choice placeholder in the graph being built. Called once, by the objective. */
  Operand<TInt32> attach(Ops tf) {
    if (placeholder != null) {
      throw new IllegalStateException("a teacher draw serves one training graph; create a new one per run");
    }
    placeholder = tf.withName("teacher_choice").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    return placeholder;
  }

  /** The teachers drawn so far in this run, step by step (for tests and logs). */
  public List<Integer> drawn() {
    return List.copyOf(drawn);
  }

  @Override
  public void onStart(TrainingContext context) {
    if (placeholder == null) {
      throw new IllegalStateException("the teacher draw was passed to the trainer but no objective uses it");
    }
    for (int m = 0; m < teachers; m++) {
      values.add(Tensors.ints(Shape.scalar(), new int[] {m}, 0, 1));
    }
  }

  @Override
  public void beforeEpoch(int epoch, TrainingContext context) {
    this.epoch = epoch;
    this.step = 0;
  }

  @Override
  public void feed(Session.Runner runner) {
    int m = choice(seed, epoch, step, teachers);
    drawn.add(m);
    runner.feed(placeholder, values.get(m));
  }

  @Override
  public void afterStep(List<Tensor> fetched) {
    step++;
  }

  @Override
  public void onEnd() {
    values.forEach(Tensor::close);
    values.clear();
  }
}
