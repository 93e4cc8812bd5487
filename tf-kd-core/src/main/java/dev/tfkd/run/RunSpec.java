package dev.tfkd.run;

import dev.tfkd.config.RunConfig;
import dev.tfkd.config.TeacherConfig;
import dev.tfkd.graph.Architecture;
import dev.tfkd.losses.Divergences;
import dev.tfkd.objectives.CentroidPolicy;
import dev.tfkd.objectives.McmiFineTune;
import dev.tfkd.objectives.TeacherObjectives;
import dev.tfkd.teacher.SavedModelTeacher;
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
    Path teacherDir = Path.of(dc.getTeacher());
    if (!Files.isDirectory(teacherDir)) {
      throw new IllegalArgumentException(teacherDir + ": no such teacher SavedModel directory");
    }
    Distiller.Builder b =
        Distiller.builder()
            .student(student)
            .divergence(dc.getDivergence())
            .weights(dc.getCeWeight(), dc.getKdWeight())
            .apply(c, data)
            .resume(resume);
    return b.ownedTeacher(
        SavedModelTeacher.load(
            teacherDir,
            new SavedModelTeacher.TeacherOptions(
                dc.getTeacherSignature().isEmpty() ? "serving_default" : dc.getTeacherSignature(),
                dc.getTeacherInput().isEmpty() ? null : dc.getTeacherInput(),
                dc.getTeacherOutput().isEmpty() ? null : dc.getTeacherOutput(),
                dev.tfkd.config.RunConfigs.teacherOutputKind(dc),
                dc.getAllowUnsafeOps(),
                dev.tfkd.teacher.InputPreprocess.parse(dc.getTeacherPreprocess()))));
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
