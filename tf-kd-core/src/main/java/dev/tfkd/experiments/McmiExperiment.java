package dev.tfkd.experiments;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.Subsets;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.TrainingVariables;
import dev.tfkd.losses.LossContext;
import dev.tfkd.metrics.EmpiricalCmi;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.objectives.McmiFineTune;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.Distillation;
import dev.tfkd.training.FeatureInputs;
import dev.tfkd.training.FrozenTeacher;
import dev.tfkd.training.Objective;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The MCMI experiment (Ye et al., ICLR 2024): for each seed, train an MLL teacher, fine-tune an MCMI teacher from
 * it (and optionally a control fine-tuned the same way with lambda 0), then train students alone and distilled
 * from each teacher under three protocols: full training data, few-shot (a stratified fraction of it) and
 * zero-shot (the training data without some classes, which the teachers did see). Everything is evaluated on the
 * held-out data; the result keeps every number per seed.
 *
 * @param teacher the teacher architecture, its (MLL) training configuration and the MCMI fine-tuning
 * @param student the student architecture, its configuration and the distillation objective
 * @param protocols the few-shot fraction and epochs, and the classes the zero-shot students never see
 * @param seeds how many seeds, from {@code firstSeed}
 * @param firstSeed the first seed
 * @param control also fine-tune a lambda = 0 control teacher (isolates the CMI term from the extra epochs)
 */
public record McmiExperiment(
    TeacherPlan teacher, StudentPlan student, Protocols protocols, int seeds, long firstSeed, boolean control) {

  /**
   * Validates the experiment; throws NullPointerException for a missing part and IllegalArgumentException for fewer
   * than one seed.
   */
  public McmiExperiment {
    Objects.requireNonNull(teacher, "teacher");
    Objects.requireNonNull(student, "student");
    Objects.requireNonNull(protocols, "protocols");
    if (seeds < 1) {
      throw new IllegalArgumentException("--seeds must be >= 1, got " + seeds);
    }
    if (student.distillation().needsFeatures()) {
      checkFeatureTerms(student.distillation(), student.architecture(), teacher.architecture());
    }
  }

  /**
   * Builds the students' objective once in a scratch graph (never run) on the student's points and an untrained
   * teacher's, so a feature term that reads a point one of the two networks lacks is refused before any teacher
   * trains.
   */
  private static void checkFeatureTerms(Objective objective, Architecture student, Architecture teacher) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x =
          tf.placeholder(TFloat32.class, Placeholder.shape(InferenceModel.batchShape(student.inputShape())));
      TrainingVariables vars = new TrainingVariables(0);
      Forward s = student.build(tf, x, vars, Architecture.Mode.TRAINING);
      Forward t = FrozenTeacher.initial(teacher, 0).forward(tf, x);
      int k = student.numClasses();
      Placeholder<TInt32> labels = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      objective.build(
          tf, s.logits(), t.logits(),
          new LossContext(labels, tf.oneHot(labels, tf.constant(k), tf.constant(1f), tf.constant(0f)), tf.constant(0f)),
          new FeatureInputs(
              s.features(), List.of(new FeatureInputs.TeacherPoints(t.features(), t.batchNorms())), vars,
              tf.constant(0f), new FeatureInputs.Examples(1, 0)));
    }
  }

  /** The teachers: architecture, MLL training configuration (its seed is replaced per run), MCMI fine-tuning. */
  public record TeacherPlan(Architecture architecture, TrainConfig config, McmiFineTune fineTune) {}

  /**
   * The students: architecture, configuration (seed replaced per run), and the distillation objective: a logit
   * divergence ({@link Distillation}) reads each teacher's logits computed once; an objective with feature terms
   * ({@link dev.tfkd.features.LossSpec}, e.g. {@code ce:1, at}) builds the teacher into the student's training
   * graph, restored from its checkpoint, so it sees every batch as the student does.
   */
  public record StudentPlan(Architecture architecture, TrainConfig config, Objective distillation) {
    /** Checks that the objective reads a teacher. */
    public StudentPlan {
      Objects.requireNonNull(distillation, "distillation");
      if (!distillation.needsTeacher()) {
        throw new IllegalArgumentException(distillation.describe() + " reads no teacher: nothing to distil");
      }
    }
  }

  /**
   * @param trainFraction the few-shot students' stratified fraction of the training data, in (0, 1]
   * @param fewShotEpochs epochs of the few-shot students (they have fewer steps per epoch)
   * @param omitClasses the classes the zero-shot students never see; at least one, not all
   */
  public record Protocols(double trainFraction, int fewShotEpochs, int[] omitClasses) {
    /**
     * Validates the protocols; throws IllegalArgumentException for a training fraction outside (0, 1] or fewer than one
     * few-shot epoch.
     */
    public Protocols {
      if (!(trainFraction > 0 && trainFraction <= 1)) {
        throw new IllegalArgumentException("--train-fraction must be in (0, 1], got " + trainFraction);
      }
      if (fewShotEpochs < 1) {
        throw new IllegalArgumentException("few-shot epochs must be >= 1, got " + fewShotEpochs);
      }
      omitClasses = omitClasses.clone();
      if (omitClasses.length == 0) {
        throw new IllegalArgumentException("--omit-classes needs at least one class");
      }
    }

    /**
     * The classes left out of the few- and zero-shot training sets (a copy).
     *
     * @return the omitted class indices
     */
    @Override
    public int[] omitClasses() {
      return omitClasses.clone();
    }
  }

  /** Teacher names in the result, in order. */
  public List<String> teacherNames() {
    return control ? List.of("mll", "mll-ft0", "mcmi") : List.of("mll", "mcmi");
  }

  /** Student rows: trained alone, then distilled from each teacher. */
  public List<String> studentNames() {
    List<String> names = new ArrayList<>(List.of("alone"));
    teacherNames().forEach(t -> names.add("kd-" + t));
    return names;
  }

  /** The evaluation settings, in report order. */
  public static final List<String> SETTINGS = List.of("full", "few-shot", "zero-shot");

  /** Runs the experiment with its checkpoints in a temporary directory, removed afterwards. */
  public McmiResult run(Dataset train, Dataset eval, PrintWriter log) throws java.io.IOException {
    Path work = java.nio.file.Files.createTempDirectory("tfkd-mcmi-");
    try {
      return run(train, eval, log, work);
    } finally {
      try {
        dev.tfkd.io.AtomicFiles.deleteRecursively(work);
      } catch (java.io.IOException e) {
        // A temporary directory we could not remove is not worth failing the experiment for.
      }
    }
  }

  /**
   * Runs the experiment.
   *
   * @param train the teachers' training data
   * @param eval the held-out data every model is evaluated on (a test set, or a validation split when choosing
   *     settings)
   * @param log progress lines
   * @param workDir scratch space for checkpoints, owned by the caller
   */
  public McmiResult run(Dataset train, Dataset eval, PrintWriter log, Path workDir) {
    for (int c : protocols.omitClasses()) {
      if (c < 0 || c >= train.numClasses()) {
        throw new IllegalArgumentException("--omit-classes: class " + c + " is outside [0, " + train.numClasses() + ")");
      }
    }
    if (Arrays.stream(protocols.omitClasses()).distinct().count() >= train.numClasses()) {
      throw new IllegalArgumentException("--omit-classes would leave the zero-shot students no class to train on");
    }
    McmiResult result = new McmiResult(this, train.name(), eval.name(), eval.hasPosterior());
    if (eval.hasPosterior()) {
      result.bayes = Metrics.bayes(eval);
    }
    for (int s = 0; s < seeds; s++) {
      long seed = firstSeed + s;
      log.printf(Locale.ROOT, "seed %d (%d of %d)%n", seed, s + 1, seeds);
      log.flush();
      TrainConfig tCfg = teacher.config().withSeed(seed);
      Map<String, TrainedModel> teachers = new LinkedHashMap<>();
      log.printf("  teacher mll: %s, %d epochs%n", teacher.architecture().name(), tCfg.epochs());
      TrainedModel mll = new Trainer(tCfg, List.of()).train(teacher.architecture(), train, new CrossEntropy(), null, workDir);
      teachers.put("mll", mll);
      if (control) {
        log.printf("  teacher mll-ft0: %d epochs of fine-tuning with lambda 0%n", teacher.fineTune().epochs());
        McmiFineTune zero =
            new McmiFineTune(0f, teacher.fineTune().centroids(), teacher.fineTune().emaMomentum(),
                teacher.fineTune().epochs(), teacher.fineTune().optimizer());
        teachers.put("mll-ft0", zero.run(mll, train, tCfg, List.of(), workDir));
      }
      log.printf(
          Locale.ROOT, "  teacher mcmi: %d epochs of fine-tuning, lambda %.3f, centroids %s%n",
          teacher.fineTune().epochs(), teacher.fineTune().lambda(), teacher.fineTune().centroids().cliName());
      teachers.put("mcmi", teacher.fineTune().run(mll, train, tCfg, List.of(), workDir));

      Map<String, Dataset> settings = new LinkedHashMap<>();
      settings.put("full", train);
      settings.put("few-shot", Subsets.stratifiedFraction(train, protocols.trainFraction(), seed));
      settings.put("zero-shot", Subsets.omitClasses(train, protocols.omitClasses()));
      Map<String, Map<String, float[]>> teacherLogits = new LinkedHashMap<>();
      for (Map.Entry<String, TrainedModel> t : teachers.entrySet()) {
        try (InferenceModel m = t.getValue().load(Trainer.sessionConfig(tCfg.threads()))) {
          float[] trainLogits = m.logits(train);
          double[] centroids = EmpiricalCmi.centroids(trainLogits, train.labels(), train.numClasses(), 1);
          Evaluation ev = Metrics.evaluate(m.logits(eval), eval);
          double trainCmi = EmpiricalCmi.of(trainLogits, train.labels(), centroids, train.numClasses(), 1);
          result.addTeacher(t.getKey(), seed, ev, trainCmi);
          log.printf(
              Locale.ROOT, "    %-8s accuracy %.4f  CMI(train) %.4f  CMI(eval) %.4f  BCPD error %.5f%n",
              t.getKey(), ev.accuracy(), trainCmi, ev.cmi(), ev.bcpdError());
          Map<String, float[]> perSetting = new LinkedHashMap<>();
          for (Map.Entry<String, Dataset> st : settings.entrySet()) {
            perSetting.put(st.getKey(), m.logits(st.getValue()));
          }
          teacherLogits.put(t.getKey(), perSetting);
        }
      }
      for (Map.Entry<String, Dataset> st : settings.entrySet()) {
        String setting = st.getKey();
        Dataset data = st.getValue();
        TrainConfig sCfg = student.config().withSeed(seed + 7919);
        if (setting.equals("few-shot")) {
          sCfg = sCfg.withEpochs(protocols.fewShotEpochs());
        }
        for (String name : studentNames()) {
          Objective objective = name.equals("alone") ? new CrossEntropy() : student.distillation();
          TrainedModel sm;
          if (!name.equals("alone") && objective.needsFeatures()) {
            // Feature terms read the teacher's intermediate points: the teacher runs in the student's graph.
            TrainedModel t = teachers.get(name.substring(3));
            FrozenTeacher frozen =
                FrozenTeacher.fromCheckpoint(t.architecture(), t.checkpointPrefix(), Trainer.sessionConfig(tCfg.threads()));
            sm = new Trainer(sCfg, List.of()).trainOnline(student.architecture(), data, objective, frozen, workDir);
          } else {
            float[] tl = name.equals("alone") ? null : teacherLogits.get(name.substring(3)).get(setting);
            sm = new Trainer(sCfg, List.of()).train(student.architecture(), data, objective, tl, workDir);
          }
          try (InferenceModel m = sm.load(Trainer.sessionConfig(sCfg.threads()))) {
            Evaluation ev = Metrics.evaluate(m.logits(eval), eval);
            result.addStudent(setting, name, seed, ev);
            log.printf(
                Locale.ROOT, "  student %-9s %-12s (%d examples) accuracy %.4f%s%n", setting, name, data.size(),
                ev.accuracy(), setting.equals("zero-shot") ? "  omitted classes " + omittedAccuracies(ev) : "");
            log.flush();
          }
        }
      }
    }
    return result;
  }

  private String omittedAccuracies(Evaluation ev) {
    StringBuilder b = new StringBuilder();
    for (int c : protocols.omitClasses()) {
      b.append(String.format(Locale.ROOT, "%s%d: %.4f", b.length() == 0 ? "" : ", ", c, ev.classAccuracy(c)));
    }
    return b.toString();
  }
}
