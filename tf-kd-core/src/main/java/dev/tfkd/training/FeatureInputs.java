package dev.tfkd.training;

import dev.tfkd.graph.BatchNormParameters;
import dev.tfkd.graph.Variables;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * What a feature-distillation loss reads in the training graph: the student's feature points (training mode, with
 * gradients), the teachers' (inference mode, behind gradient barriers), where adapters (regressors, embeddings)
 * create their variables, the epoch for methods with a warm-up, and the batch's training examples for methods with
 * per-example state. Adapter variables are the student's training variables: trained with it, saved in its
 * checkpoints and restored on resume, and never part of its inference graph or its export. Adapter state (a memory
 * bank) is created with {@link Variables#state} and rides the same checkpoints.
 *
 * <p>A loss reads one teacher ({@link #teacher()}, {@link #teacherBatchNorms()}). With several teachers the
 * objective builds each feature term once per teacher on {@link #forTeacher(int)} and combines the values (see
 * {@link dev.tfkd.features.LossSpec}).
 *
 * @param student the student's feature points by name ({@link dev.tfkd.graph.Forward#features()})
 * @param teachers each teacher's feature points, in the order the teachers were given; empty when the objective
 *     reads no teacher
 * @param adapters the source of adapter variables (names must be unique in the graph and free of {@code /})
 * @param epoch the current epoch as a float32 scalar, counted from 0 and fed every step (the trainer's {@code
 *     epoch} placeholder, so a resumed run feeds the epoch it resumes in), or null where no epoch is fed: a method
 *     with a warm-up then refuses to build
 * @param examples which training examples the batch holds, for losses that keep per-example state; {@code null}
 *     when the training data cannot say (streamed data)
 */
public record FeatureInputs(
    Map<String, Operand<TFloat32>> student,
    List<TeacherPoints> teachers,
    Variables adapters,
    Operand<TFloat32> epoch,
    Examples examples) {

  /**
   * One teacher's feature points.
   *
   * @param points the points by name ({@link dev.tfkd.graph.Forward#features()})
   * @param batchNorms the batch-norm parameters of its pre-ReLU points, by point name ({@link
   *     dev.tfkd.graph.Forward#batchNorms()}); empty when the teacher gives none
   */
  public record TeacherPoints(Map<String, Operand<TFloat32>> points, Map<String, BatchNormParameters> batchNorms) {
    /** Copies the maps. */
    public TeacherPoints {
      points = Map.copyOf(points);
      batchNorms = Map.copyOf(batchNorms);
    }
  }

  /** Copies the student's points and the teacher list. */
  public FeatureInputs {
    student = Map.copyOf(student);
    teachers = List.copyOf(teachers);
    Objects.requireNonNull(adapters, "adapters");
  }

  /**
   * Several teachers' points, without an epoch or example indices.
   *
   * @param student the student's points
   * @param teachers each teacher's points
   * @param adapters the source of adapter variables
   */
  public FeatureInputs(Map<String, Operand<TFloat32>> student, List<TeacherPoints> teachers, Variables adapters) {
    this(student, teachers, adapters, null, null);
  }

  /**
   * One teacher's points without batch-norm parameters (none when {@code teacher} is empty), without an epoch or
   * example indices (methods without a warm-up or per-example state only).
   *
   * @param student the student's points
   * @param teacher the teacher's points; empty when the objective reads no teacher
   * @param adapters the source of adapter variables
   */
  public FeatureInputs(Map<String, Operand<TFloat32>> student, Map<String, Operand<TFloat32>> teacher, Variables adapters) {
    this(student, one(teacher), adapters, null, null);
  }

  /**
   * One teacher's points with an epoch and without example indices.
   *
   * @param student the student's points
   * @param teacher the teacher's points; empty when the objective reads no teacher
   * @param adapters the source of adapter variables
   * @param epoch the current epoch as a float32 scalar, or null
   */
  public FeatureInputs(
      Map<String, Operand<TFloat32>> student,
      Map<String, Operand<TFloat32>> teacher,
      Variables adapters,
      Operand<TFloat32> epoch) {
    this(student, one(teacher), adapters, epoch, null);
  }

  /**
   * One teacher's points with example indices and without an epoch.
   *
   * @param student the student's points
   * @param teacher the teacher's points; empty when the objective reads no teacher
   * @param adapters the source of adapter variables
   * @param examples the batch's training examples, or null
   */
  public FeatureInputs(
      Map<String, Operand<TFloat32>> student, Map<String, Operand<TFloat32>> teacher, Variables adapters, Examples examples) {
    this(student, one(teacher), adapters, null, examples);
  }

  private static List<TeacherPoints> one(Map<String, Operand<TFloat32>> teacher) {
    return teacher.isEmpty() ? List.of() : List.of(new TeacherPoints(teacher, Map.of()));
  }

  /**
   * The (first) teacher's feature points by name; empty when there is no teacher.
   *
   * @return the points
   */
  public Map<String, Operand<TFloat32>> teacher() {
    return teachers.isEmpty() ? Map.of() : teachers.get(0).points();
  }

  /**
   * The (first) teacher's batch-norm parameters of its pre-ReLU points, by point name; empty when it gives none.
   *
   * @return the parameters
   */
  public Map<String, BatchNormParameters> teacherBatchNorms() {
    return teachers.isEmpty() ? Map.of() : teachers.get(0).batchNorms();
  }

  /**
   * The same inputs with teacher {@code m} alone (the same student, adapters, epoch and examples).
   *
   * @param m the teacher, from 0
   * @return inputs whose {@link #teacher()} is teacher {@code m}'s
   */
  public FeatureInputs forTeacher(int m) {
    return new FeatureInputs(student, List.of(teachers.get(m)), adapters, epoch, examples);
  }

  /**
   * The training examples of each step, for losses that keep one row of state per training example (CRD's memory
   * banks): the number of examples, the run's seed, and two graph inputs made on first use and then fed by the
   * trainer with every step: {@code example_index}, the int32 {@code [batch]} positions of the batch's examples in
   * the training data (data in memory knows them from the epoch's permutation), and {@code global_step}, the int64
   * number of steps taken before this one (continued on resume), which keys a loss's random draws so that they
   * depend on the seed and the step only. Made once per training graph; not thread-safe.
   */
  public static final class Examples {
    private final long count;
    private final long seed;
    private Placeholder<TInt32> index;
    private Placeholder<TInt64> step;

    /**
     * @param count the number of training examples, at least 1
     * @param seed the run's seed
     */
    public Examples(long count, long seed) {
      if (count < 1) {
        throw new IllegalArgumentException("a training set of " + count + " examples");
      }
      this.count = count;
      this.seed = seed;
    }

    /**
     * The number of training examples; indices run over {@code [0, count)}.
     *
     * @return the count
     */
    public long count() {
      return count;
    }

    /**
     * The run's seed.
     *
     * @return the seed
     */
    public long seed() {
      return seed;
    }

    /**
     * The batch's example indices, int32 {@code [batch]}, distinct within a batch.
     *
     * @param tf where the graph is being built
     * @return the input, the same one on every call
     */
    public Operand<TInt32> index(Ops tf) {
      if (index == null) {
        index = tf.withName("example_index").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      }
      return index;
    }

    /**
     * The number of training steps taken before the current one, an int64 scalar.
     *
     * @param tf where the graph is being built
     * @return the input, the same one on every call
     */
    public Operand<TInt64> step(Ops tf) {
      if (step == null) {
        step = tf.withName("global_step").placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
      }
      return step;
    }

    /** The index input if a loss asked for it, else null. */
    Placeholder<TInt32> indexInput() {
      return index;
    }

    /** The step input if a loss asked for it, else null. */
    Placeholder<TInt64> stepInput() {
      return step;
    }
  }
}
