package dev.tfkd.run;

import dev.tfkd.config.RunConfig;
import dev.tfkd.config.TeacherConfig;
import dev.tfkd.graph.Architecture;
import dev.tfkd.losses.Divergences;
import dev.tfkd.objectives.CentroidPolicy;
import dev.tfkd.objectives.McmiFineTune;
import dev.tfkd.objectives.TeacherObjectives;
import dev.tfkd.teacher.CachedTeacher;
import dev.tfkd.teacher.SavedModelTeacher;
import dev.tfkd.teacher.Teacher;
import dev.tfkd.training.TeacherLogitCache;
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
    SavedModelTeacher.TeacherOptions options =
        new SavedModelTeacher.TeacherOptions(
            dc.getTeacherSignature().isEmpty() ? "serving_default" : dc.getTeacherSignature(),
            dc.getTeacherInput().isEmpty() ? null : dc.getTeacherInput(),
            dc.getTeacherOutput().isEmpty() ? null : dc.getTeacherOutput(),
            dev.tfkd.config.RunConfigs.teacherOutputKind(dc),
            dc.getAllowUnsafeOps(),
            dev.tfkd.teacher.InputPreprocess.parse(dc.getTeacherPreprocess()));
    Teacher teacher = SavedModelTeacher.load(teacherDir, options);
    var d = c.getData();
    long logitBytes = 4L * data.trainSize() * data.train().numClasses();
    boolean onDisk =
        c.getTraining().getAugmentCount() == 0
            && (data.stream() != null || !d.getLogitCache().isEmpty()
                || logitBytes > Runtime.getRuntime().maxMemory() / 8);
    if (onDisk) {
      // Logits for data larger than memory live in the on-disk cache, keyed by the SavedModel's files and the
      // options that change what is read from it.
      Path dir =
          d.getLogitCache().isEmpty() ? Path.of(c.getOutput().getRunDir()).resolve(LOGIT_CACHE_DIR) : Path.of(d.getLogitCache());
      String fingerprint =
          TeacherLogitCache.fingerprint(teacherDir) + "/" + Integer.toHexString(options.toString().hashCode());
      teacher = new CachedTeacher(teacher, sha256(fingerprint), TeacherLogitCache.inDirectory(dir));
    }
    return b.ownedTeacher(teacher).logitsInMemoryLimit(onDisk ? 0 : Long.MAX_VALUE);
  }

  /** The folder of a run directory holding the on-disk teacher logits, unless {@code data.logit_cache} says another. */
  public static final String LOGIT_CACHE_DIR = "teacher-logits";

  private static String sha256(String s) {
    try {
      return java.util.HexFormat.of().formatHex(
          java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
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
