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
import dev.tfkd.config.ConfigException;
import dev.tfkd.export.Manifest;
import dev.tfkd.export.SavedModelClassifier;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.features.LossSpec;
import dev.tfkd.teacher.GraphTeacher;
import dev.tfkd.training.FrozenTeacher;
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
    LossSpec loss = dev.tfkd.config.RunConfigs.lossSpec(dc);
    if (loss == null) {
      new Distillation(dc.getCeWeight(), dc.getKdWeight(), Divergences.parse(dc.getDivergence()));
    }
    RunData data = RunData.load(c.getData(), c.getTraining().getSeed());
    Architecture student = models.create(c.getModel(), data.train().exampleShape(), data.train().numClasses());
    Distiller.Builder b = Distiller.builder().student(student);
    b = loss != null ? b.loss(loss) : b.divergence(dc.getDivergence()).weights(dc.getCeWeight(), dc.getKdWeight());
    b = b.apply(c, data).resume(resume);
    if (dc.getTeachersCount() == 0) {
      Path teacherDir = existing(dc.getTeacher());
      SavedModelTeacher.TeacherOptions options = options(dc, DistillationTeacher.getDefaultInstance());
      if (loss != null && loss.needsFeatures()) {
        // Named tensors, or an export's features signature, serve the points from the teacher's own graph (any
        // architecture); otherwise a tf-kd export of a zoo model is rebuilt in the student's graph.
        if (dc.getTeacherFeatureCount() > 0 || dc.getTeacherModel().isEmpty() && hasFeaturesSignature(teacherDir)) {
          options = options.withFeatures(new SavedModelClassifier.FeatureBinding(true, teacherFeatures(dc)));
          return b.ownedTeachers(List.of(SavedModelTeacher.load(teacherDir, options)));
        }
        return b.ownedTeachers(
            List.of(exportedGraphTeacher(teacherDir, dc.getTeacherModel(), data, models, c.getTraining().getThreads())));
      }
      if (dc.getTeacherFeatureCount() > 0) {
        throw new ConfigException(
            "{distillation.teacher_feature} names the teacher's feature points, but the loss reads none (give feature"
                + " terms with --loss)");
      }
      Teacher teacher = SavedModelTeacher.load(teacherDir, options);
      return b.ownedTeachers(List.of(withLogitCache(b, c, data, teacherDir, options, teacher)));
    }
    if (dc.getTeacherFeatureCount() > 0) {
      throw new ConfigException(
          "{distillation.teacher_feature} names one teacher's feature points; several teachers combine through logits");
    }
    // Each teacher's logits are remembered per dataset, so a teacher named twice runs once. Not with augmentation:
    // then every teacher must see each augmented batch.
    boolean cache = c.getTraining().getAugmentCount() == 0;
    TeacherLogitCache logits = TeacherLogitCache.inMemory();
    List<Teacher> teachers = new ArrayList<>();
    try {
      for (DistillationTeacher t : dc.getTeachersList()) {
        Path dir = existing(t.getPath());
        if (loss != null && loss.needsFeatures()) {
          // Feature terms read every teacher's points: each is rebuilt in the student's graph.
          teachers.add(exportedGraphTeacher(dir, dc.getTeacherModel(), data, models, c.getTraining().getThreads()));
          continue;
        }
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

  /** {@code distillation.teacher_feature}'s {@code NAME=TENSOR} entries, in order; a repeated name is refused. */
  static java.util.Map<String, String> teacherFeatures(DistillationConfig dc) {
    java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
    for (String f : dc.getTeacherFeatureList()) {
      int eq = f.indexOf('=');
      if (eq <= 0 || eq == f.length() - 1) {
        throw new ConfigException("{distillation.teacher_feature} '" + f + "': expected NAME=TENSOR, e.g. pooled=StatefulPartitionedCall:0");
      }
      String name = f.substring(0, eq).strip();
      if (out.put(name, f.substring(eq + 1).strip()) != null) {
        throw new ConfigException("{distillation.teacher_feature} names the feature point '" + name + "' twice");
      }
    }
    return out;
  }

  /** Whether the SavedModel in {@code dir} (or its latest version) has a {@code features} signature. */
  private static boolean hasFeaturesSignature(Path dir) {
    try {
      Path version =
          Files.isRegularFile(dir.resolve("saved_model.pb")) ? dir
              : dir.resolve(Long.toString(ServingExporter.latestVersion(dir).orElse(-1)));
      if (!Files.isRegularFile(version.resolve("saved_model.pb"))) {
        return false;
      }
      // Only the signature map is read here; the model itself is loaded through the scanned path.
      return dev.tfkd.export.ScannedSavedModel.read(version, java.util.Set.of(ServingExporter.SERVE_TAG))
          .metaGraph().getSignatureDefMap().containsKey(dev.tfkd.export.Signatures.FEATURES_KEY);
    } catch (java.io.IOException | IllegalArgumentException e) {
      // Unreadable: the load that follows reports it.
      return false;
    }
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
   * A tf-kd export rebuilt as an in-graph teacher (its zoo architecture with the export's variables as constants),
   * so feature losses can read its feature points. Only the export's variables are read (restored into a graph
   * built here); none of its graph runs.
   */
  private static GraphTeacher exportedGraphTeacher(
      Path dir, String modelSpec, RunData data, ArchitectureFactory models, int threads) {
    Path version;
    try {
      version = Files.isRegularFile(dir.resolve("saved_model.pb")) ? dir
          : dir.resolve(Long.toString(ServingExporter.latestVersion(dir).orElseThrow(
              () -> new IllegalArgumentException(dir + ": not a SavedModel (no saved_model.pb) and no integer version inside"))));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    String spec = modelSpec;
    String manifest = null;
    try {
      Path m = version.resolve(Manifest.FILE);
      manifest = Files.isRegularFile(m) ? Files.readString(m) : null;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    if (manifest != null && manifest.matches("(?s).*\"inputs\"\\s*:\\s*\"raw\".*")) {
      throw new IllegalArgumentException(
          version + ": the export normalises its inputs in its graph; feature distillation rebuilds its architecture"
              + " without that step: export the teacher without normalisation");
    }
    if (spec.isEmpty()) {
      java.util.regex.Matcher a =
          manifest == null ? null : java.util.regex.Pattern.compile("\"architecture\"\\s*:\\s*\"([^\"]+)\"").matcher(manifest);
      if (a == null || !a.find()) {
        throw new IllegalArgumentException(
            version + ": feature terms build the teacher into the student's graph; it has no tf-kd manifest naming"
                + " its architecture: name its zoo model with --teacher-model");
      }
      spec = a.group(1);
    }
    Architecture arch = models.create(spec, data.train().exampleShape(), data.train().numClasses());
    FrozenTeacher frozen =
        FrozenTeacher.fromCheckpoint(
            arch, version.resolve("variables").resolve("variables"), dev.tfkd.training.Trainer.sessionConfig(threads));
    return GraphTeacher.of(frozen).withThreads(threads);
  }

  /** The folder of a run directory holding the on-disk teacher logits, unless {@code data.logit_cache} says another. */
  public static final String LOGIT_CACHE_DIR = "teacher-logits";

  /**
   * One teacher, wrapped in the on-disk logit cache when its logits for the training data would not fit in memory
   * (or the data is streamed, or {@code data.logit_cache} names a folder); the builder's in-memory limit is set to
   * match.
   */
  private static Teacher withLogitCache(
      Distiller.Builder b, RunConfig c, RunData data, Path teacherDir, SavedModelTeacher.TeacherOptions options,
      Teacher teacher) {
    var d = c.getData();
    long logitBytes = 4L * data.trainSize() * data.train().numClasses();
    boolean onDisk =
        c.getTraining().getAugmentCount() == 0
            && (data.stream() != null || !d.getLogitCache().isEmpty()
                || logitBytes > Runtime.getRuntime().maxMemory() / 8);
    b.logitsInMemoryLimit(onDisk ? 0 : Long.MAX_VALUE);
    if (!onDisk) {
      return teacher;
    }
    // Logits for data larger than memory live in the on-disk cache, keyed by the SavedModel's files and the
    // options that change what is read from it.
    Path dir =
        d.getLogitCache().isEmpty() ? Path.of(c.getOutput().getRunDir()).resolve(LOGIT_CACHE_DIR) : Path.of(d.getLogitCache());
    String fingerprint =
        TeacherLogitCache.fingerprint(teacherDir) + "/" + Integer.toHexString(options.toString().hashCode());
    return new CachedTeacher(teacher, sha256(fingerprint), TeacherLogitCache.inDirectory(dir));
  }

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
