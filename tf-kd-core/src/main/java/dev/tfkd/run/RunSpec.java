package dev.tfkd.run;

import dev.tfkd.config.DistillationConfig;
import dev.tfkd.config.DistillationTeacher;
import dev.tfkd.config.RunConfig;
import dev.tfkd.config.RunConfigs;
import dev.tfkd.config.TeacherConfig;
import dev.tfkd.graph.Architecture;
import dev.tfkd.losses.Divergences;
import dev.tfkd.objectives.CentroidPolicy;
import dev.tfkd.objectives.McmiFineTune;
import dev.tfkd.objectives.TeacherObjectives;
import dev.tfkd.teacher.CachedTeacher;
import dev.tfkd.teacher.SavedModelTeacher;
import dev.tfkd.teacher.Teacher;
import dev.tfkd.training.TeacherCombination;
import dev.tfkd.training.TeacherLogitCache;
import java.util.ArrayList;
import java.util.List;
import dev.tfkd.training.Distillation;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one place where a run configuration ({@code tfkd.RunConfig}, resolved from defaults, a config file and the
 * command line's flags, or saved in a run directory) becomes a run: its fields map onto {@link Distiller.Builder}
 * and {@link TeacherTrainer.Builder}. The data is read and the teacher loaded here, so a configuration naming bad
 * input is refused before the run directory exists.
 */
public final class RunSpec {
  private RunSpec() {}

  /**
   * A distiller set from a validated {@code distill} configuration.
   *
   * @param resume continue the run in the configuration's run directory
   * @param models makes the student's architecture from the {@code model} field
   * @param c the validated configuration
   * @return a builder holding the teacher it loaded (closed by the run)
   */
  public static Distiller.Builder distiller(RunConfig c, boolean resume, ArchitectureFactory models) {
    var dc = c.getDistillation();
    // Everything that can be wrong with the input is checked before the run directory is created.
    new Distillation(dc.getCeWeight(), dc.getKdWeight(), Divergences.parse(dc.getDivergence()));
    RunData data = RunData.load(c.getData(), c.getTraining().getSeed());
    Architecture student = models.create(c.getModel(), data.train().exampleShape(), data.train().numClasses());
    Distiller.Builder b =
        Distiller.builder()
            .student(student)
            .divergence(dc.getDivergence())
            .weights(dc.getCeWeight(), dc.getKdWeight())
            .apply(c, data)
            .resume(resume);
    if (dc.getTeachersCount() == 0) {
      return b.ownedTeachers(
          List.of(SavedModelTeacher.load(existing(dc.getTeacher()), options(dc, DistillationTeacher.getDefaultInstance()))));
    }
    // Each teacher's logits are remembered per dataset, so a teacher named twice runs once. Not with augmentation:
    // then every teacher must see each augmented batch.
    boolean cache = c.getTraining().getAugmentCount() == 0;
    TeacherLogitCache logits = TeacherLogitCache.inMemory();
    List<Teacher> teachers = new ArrayList<>();
    try {
      for (DistillationTeacher t : dc.getTeachersList()) {
        Path dir = existing(t.getPath());
        SavedModelTeacher.TeacherOptions options = options(dc, t);
        SavedModelTeacher loaded = SavedModelTeacher.load(dir, options);
        teachers.add(
            cache ? new CachedTeacher(loaded, TeacherLogitCache.fingerprint(dir) + " " + options, logits) : loaded);
      }
    } catch (RuntimeException e) {
      teachers.forEach(Teacher::close);
      throw e;
    }
    b.ownedTeachers(teachers);
    TeacherCombination.Mode mode = RunConfigs.teacherCombination(dc);
    float[] weights = new float[0];
    if (mode == TeacherCombination.Mode.WEIGHTED) {
      weights = new float[dc.getTeachersCount()];
      for (int i = 0; i < weights.length; i++) {
        weights[i] = dc.getTeachers(i).getWeight();
      }
    }
    return b.combine(new TeacherCombination(mode, weights));
  }

  private static Path existing(String teacher) {
    Path dir = Path.of(teacher);
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + ": no such teacher SavedModel directory");
    }
    return dir;
  }

  /** The loading options of one teacher: its section's fields, the distillation's teacher_* fields where empty. */
  private static SavedModelTeacher.TeacherOptions options(DistillationConfig dc, DistillationTeacher t) {
    String signature = t.getSignature().isEmpty() ? dc.getTeacherSignature() : t.getSignature();
    String input = t.getInput().isEmpty() ? dc.getTeacherInput() : t.getInput();
    String output = t.getOutput().isEmpty() ? dc.getTeacherOutput() : t.getOutput();
    String preprocess = t.getPreprocess().isEmpty() ? dc.getTeacherPreprocess() : t.getPreprocess();
    return new SavedModelTeacher.TeacherOptions(
        signature.isEmpty() ? "serving_default" : signature,
        input.isEmpty() ? null : input,
        output.isEmpty() ? null : output,
        RunConfigs.teacherOutputKind(dc, t),
        dc.getAllowUnsafeOps(),
        dev.tfkd.teacher.InputPreprocess.parse(preprocess));
  }

  /**
   * A teacher trainer set from a validated {@code train-teacher} configuration.
   *
   * @param resume continue the run in the configuration's run directory
   * @param models makes the teacher's architecture from the {@code model} field
   * @param c the validated configuration
   * @return a builder
   */
  public static TeacherTrainer.Builder teacherTrainer(RunConfig c, boolean resume, ArchitectureFactory models) {
    TeacherConfig t = c.getTeacher();
    TeacherObjectives.Kind kind = TeacherObjectives.Kind.parse(t.getObjective());
    McmiFineTune ft =
        McmiFineTune.paper(t.getLambda())
            .withCentroids(CentroidPolicy.parse(t.getCentroids()))
            .withEpochs(t.getFinetuneEpochs())
            .withLearningRate(t.getFinetuneLearningRate());
    TeacherObjectives.Spec spec = new TeacherObjectives.Spec(kind, t.getLambda(), t.getSmoothing(), ft);
    RunData data = RunData.load(c.getData(), c.getTraining().getSeed());
    Architecture arch = models.create(c.getModel(), data.train().exampleShape(), data.train().numClasses());
    TeacherTrainer.Builder b = TeacherTrainer.builder().architecture(arch).objective(spec).apply(c, data).resume(resume);
    if (!t.getExportName().isEmpty()) {
      b.modelName(t.getExportName());
    }
    return b;
  }
}
