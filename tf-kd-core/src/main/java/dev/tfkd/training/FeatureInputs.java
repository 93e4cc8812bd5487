package dev.tfkd.training;

import dev.tfkd.graph.BatchNormParameters;
import dev.tfkd.graph.Variables;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * What a feature-distillation loss reads in the training graph: the student's feature points (training mode, with
 * gradients), the teachers' (inference mode, behind gradient barriers), and where adapters (regressors,
 * embeddings) create their variables. Adapter variables are the student's training variables: trained with it,
 * saved in its checkpoints and restored on resume, and never part of its inference graph or its export.
 *
 * <p>A loss reads one teacher ({@link #teacher()}, {@link #teacherBatchNorms()}). With several teachers the
 * objective builds each feature term once per teacher on {@link #forTeacher(int)} and combines the values (see
 * {@link dev.tfkd.features.LossSpec}).
 *
 * @param student the student's feature points by name ({@link dev.tfkd.graph.Forward#features()})
 * @param teachers each teacher's feature points, in the order the teachers were given; empty when the objective
 *     reads no teacher
 * @param adapters the source of adapter variables (names must be unique in the graph and free of {@code /})
 */
public record FeatureInputs(Map<String, Operand<TFloat32>> student, List<TeacherPoints> teachers, Variables adapters) {

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
   * One teacher's points without batch-norm parameters, or none when {@code teacher} is empty.
   *
   * @param student the student's points
   * @param teacher the teacher's points; empty when the objective reads no teacher
   * @param adapters the source of adapter variables
   */
  public FeatureInputs(Map<String, Operand<TFloat32>> student, Map<String, Operand<TFloat32>> teacher, Variables adapters) {
    this(student, teacher.isEmpty() ? List.of() : List.of(new TeacherPoints(teacher, Map.of())), adapters);
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
   * The same inputs with teacher {@code m} alone.
   *
   * @param m the teacher, from 0
   * @return inputs whose {@link #teacher()} is teacher {@code m}'s
   */
  public FeatureInputs forTeacher(int m) {
    return new FeatureInputs(student, List.of(teachers.get(m)), adapters);
  }
}
