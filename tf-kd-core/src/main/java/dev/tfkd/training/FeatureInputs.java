package dev.tfkd.training;

import dev.tfkd.graph.Variables;
import java.util.Map;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * What a feature-distillation loss reads in the training graph: the student's feature points (training mode, with
 * gradients), the teacher's (inference mode, behind gradient barriers), where adapters (regressors,
 * embeddings) create their variables, and the epoch for methods with a warm-up. Adapter variables are the
 * student's training variables: trained with it, saved in its checkpoints and restored on resume, and never part
 * of its inference graph or its export.
 *
 * @param student the student's feature points by name ({@link dev.tfkd.graph.Forward#features()})
 * @param teacher the teacher's feature points by name; empty when the objective reads no teacher
 * @param adapters the source of adapter variables (names must be unique in the graph and free of {@code /})
 * @param epoch the current epoch as a float32 scalar, counted from 0 and fed every step (the trainer's {@code
 *     epoch} placeholder, so a resumed run feeds the epoch it resumes in), or null where no epoch is fed: a method
 *     with a warm-up then refuses to build
 */
public record FeatureInputs(
    Map<String, Operand<TFloat32>> student,
    Map<String, Operand<TFloat32>> teacher,
    Variables adapters,
    Operand<TFloat32> epoch) {
  /** Copies the maps. */
  public FeatureInputs {
    student = Map.copyOf(student);
    teacher = Map.copyOf(teacher);
    Objects.requireNonNull(adapters, "adapters");
  }

  /**
   * Feature inputs without an epoch (methods without a warm-up only).
   *
   * @param student the student's feature points by name
   * @param teacher the teacher's feature points by name
   * @param adapters the source of adapter variables
   */
  public FeatureInputs(
      Map<String, Operand<TFloat32>> student, Map<String, Operand<TFloat32>> teacher, Variables adapters) {
    this(student, teacher, adapters, null);
  }
}
