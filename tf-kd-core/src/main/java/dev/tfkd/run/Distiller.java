package dev.tfkd.run;

import dev.tfkd.config.ConfigException;
import dev.tfkd.config.RunConfig;
import dev.tfkd.data.Augmentation;
import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Architecture;
import dev.tfkd.losses.Divergence;
import dev.tfkd.losses.Divergences;
import dev.tfkd.teacher.CachedTeacher;
import dev.tfkd.teacher.GraphTeacher;
import dev.tfkd.training.BatchFeatures;
import dev.tfkd.teacher.Teacher;
import dev.tfkd.features.LossSpec;
import dev.tfkd.training.FrozenTeacher;
import dev.tfkd.training.Distillation;
import dev.tfkd.training.MultiTeacherDistillation;
import dev.tfkd.training.Objective;
import dev.tfkd.training.TeacherCombination;
import dev.tfkd.training.LogitTable;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * Distils a student from a {@link Teacher}: trains the student {@code Architecture} with {@code ce_weight * CE +
 * kd_weight * divergence(student, teacher)} as a run (checkpoints every epoch, resume, JSON-lines and TensorBoard
 * logs, early stopping, the final figures of teacher and student, the student exported as a SavedModel with a
 * provenance manifest and warm-up records, {@code results.json} and an HTML report).
 *
 * <pre>{@code
 * try (Teacher teacher = SavedModelTeacher.load(Path.of("models/teacher/1"))) {
 *   RunResult r = Distiller.builder()
 *       .teacher(teacher)
 *       .student(Models.create("mlp:16", teacher.inputShape(), teacher.numClasses()))
 *       .divergence("kl(T=4)").weights(0.1f, 0.9f)
 *       .train(train).test(test).epochs(20)
 *       .runDirectory(Path.of("runs/kd")).exportTo(Path.of("models"))
 *       .build()
 *       .fit();
 * }
 * }</pre>
 *
 * <p>Every check (data, teacher, export root, disk space) runs before the run directory is created, so a refused
 * run writes nothing. Without augmentation the teacher's logits for the training data are computed once, in the
 * teacher's own session, and fed with each batch. With augmentation ({@link RunBuilder#augment}) the teacher runs
 * online and answers exactly the augmented batch the student is fed: a {@link GraphTeacher} is built into the
 * student's training graph; any other teacher is asked per batch ({@link Teacher#logits(float[], int)}) on the
 * batch-preparation thread, overlapping with the student's previous step. A {@link CachedTeacher} is refused with
 * augmentation (its logits are of the un-augmented examples).
 *
 * <p>Several teachers ({@link Builder#teachers}) are combined as {@link Builder#combine} says ({@link
 * TeacherCombination}: the mean of their probabilities, the mean of the per-teacher losses, fixed weights, CA-MKD's
 * per-example confidence weights or a random teacher per batch; the {@code T^2} factor of the divergence applies
 * once in every mode). Each teacher's logits are computed once, in its own session, and fed side by side; with
 * augmentation every teacher is asked for every augmented batch.
 *
 * <pre>{@code
 * RunResult r = Distiller.builder()
 *     .teachers(List.of(resnet56, wrn40x2))
 *     .combine(TeacherCombination.confidence())
 *     .student(student).divergence("kl(T=4)")
 *     .train(train).runDirectory(Path.of("runs/ca-mkd"))
 *     .build()
 *     .fit();
 * }</pre>
 */
public final class Distiller {
  /** The name the student is exported and scored under, unless {@link Builder#modelName} says otherwise. */
  public static final String DEFAULT_NAME = "student";

  private final Builder b;

  private Distiller(Builder b) {
    this.b = b;
  }

  /**
   * A builder with the defaults of {@link RunBuilder}, divergence {@code kl}, weights 0.1 (CE) and 0.9 (KD).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder set from a resolved {@code distill} configuration (see {@link RunSpec#distiller}): the teacher is
   * loaded and the data read now, so a bad configuration is refused before anything is written.
   *
   * @param config the resolved configuration
   * @param resume continue the run in the configuration's run directory
   * @param models makes the student's architecture from the {@code model} field
   * @return a builder that owns the loaded teacher
   */
  public static Builder fromConfig(RunConfig config, boolean resume, ArchitectureFactory models) {
    return RunSpec.distiller(config, resume, models);
  }

  /** Options of a distillation run; {@link #teacher}, {@link #student}, training data and run directory are required. */
  public static final class Builder extends RunBuilder<Builder> {
    private List<Teacher> teachers = List.of();
    private TeacherCombination combination;
    private boolean ownsTeacher;
    private Architecture student;
    private Divergence divergence = Divergences.parse("kl");
    private String divergenceSpec = "kl";
    private float ceWeight = 0.1f;
    private float kdWeight = 0.9f;
    private LossSpec loss;
    private boolean logitOptionsSet;
    private long logitsInMemoryLimit = Runtime.getRuntime().maxMemory() / 8;

    private Builder() {}

    /**
     * The student's loss as a weighted sum of terms, e.g. {@code ce:1, kl(T=4):0.9, at:1000} ({@link
     * LossSpec#parse}): cross-entropy, logit divergences and feature losses. Replaces {@link #divergence} and {@link
     * #weights}, which may then not be set. Feature terms need the teacher's feature points: the teacher must be a
     * {@link GraphTeacher}, which then runs in the student's training graph, or serve its points with its logits on
     * every batch ({@link BatchFeatures}: a {@link dev.tfkd.teacher.SavedModelTeacher} loaded with feature points).
     * With several teachers every term but the cross-entropy is combined over them as {@link #combine} says ({@link
     * LossSpec#withTeachers}); feature terms then need every teacher to be a {@link GraphTeacher}.
     *
     * @param spec the loss spec
     * @return this builder
     */
    public Builder loss(String spec) {
      return loss(LossSpec.parse(spec));
    }

    /**
     * The student's loss as a {@link LossSpec}.
     *
     * @param loss the loss
     * @return this builder
     */
    public Builder loss(LossSpec loss) {
      this.loss = Objects.requireNonNull(loss, "loss");
      return this;
    }

    /**
     * The most bytes of teacher logits for the training set kept in memory (default: an eighth of the Java heap).
     * Beyond it, and always for streamed training data, the logits are computed into the on-disk cache of a {@link
     * CachedTeacher} backed by a directory and read back batch by batch; any other teacher is then refused.
     *
     * @param bytes the limit, at least 0 (0 keeps every training set's logits on disk)
     * @return this builder
     */
    public Builder logitsInMemoryLimit(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("the in-memory logit limit must be >= 0, got " + bytes);
      }
      this.logitsInMemoryLimit = bytes;
      return this;
    }

    /**
     * The teacher (not closed by the run).
     *
     * @param teacher the teacher; the caller closes it after the run
     * @return this builder
     */
    public Builder teacher(Teacher teacher) {
      this.teachers = List.of(Objects.requireNonNull(teacher, "teacher"));
      this.ownsTeacher = false;
      return this;
    }

    /**
     * Several teachers (not closed by the run), combined as {@link #combine} says. The same teacher may appear
     * twice (it then weighs twice in the means).
     *
     * @param teachers at least one; all predict the student's classes
     * @return this builder
     */
    public Builder teachers(List<? extends Teacher> teachers) {
      if (teachers.isEmpty()) {
        throw new IllegalArgumentException("a distillation needs at least one teacher");
      }
      teachers.forEach(t -> Objects.requireNonNull(t, "teacher"));
      this.teachers = List.copyOf(teachers);
      this.ownsTeacher = false;
      return this;
    }

    /**
     * How several teachers combine (default {@link TeacherCombination#meanOfLosses()}); also with one teacher, where
     * every mode equals the plain distillation.
     *
     * @param combination the combination
     * @return this builder
     */
    public Builder combine(TeacherCombination combination) {
      this.combination = Objects.requireNonNull(combination, "combination");
      return this;
    }

    /** Teachers the run closes once it has the logits it needs (after training, when they run online). */
    Builder ownedTeachers(List<? extends Teacher> teachers) {
      teachers(teachers);
      this.ownsTeacher = true;
      return this;
    }

    /**
     * The student's architecture.
     *
     * @param student the student's architecture
     * @return this builder
     */
    public Builder student(Architecture student) {
      this.student = Objects.requireNonNull(student, "student");
      return this;
    }

    /**
     * The divergence as a spec, e.g. {@code kl(T=4)} or {@code dkd(beta=4)} ({@link Divergences#parse}).
     *
     * @param spec the divergence spec
     * @return this builder
     */
    public Builder divergence(String spec) {
      this.divergence = Divergences.parse(spec);
      this.divergenceSpec = spec;
      this.logitOptionsSet = true;
      return this;
    }

    /**
     * The divergence as an object.
     *
     * @param divergence the divergence
     * @return this builder
     */
    public Builder divergence(Divergence divergence) {
      this.divergence = Objects.requireNonNull(divergence, "divergence");
      this.divergenceSpec = divergence.name();
      this.logitOptionsSet = true;
      return this;
    }

    /**
     * The weights of the label cross-entropy and of the divergence to the teacher.
     *
     * @param ceWeight the cross-entropy weight, finite and at least 0
     * @param kdWeight the divergence weight, finite and at least 0 (not both 0)
     * @return this builder
     */
    public Builder weights(float ceWeight, float kdWeight) {
      this.ceWeight = ceWeight;
      this.kdWeight = kdWeight;
      this.logitOptionsSet = true;
      return this;
    }

    /**
     * The ops outside the allow-list that the teacher's graph holds and was let run ({@link Teacher#unsafeOps()}):
     * what a front end warns about once the teachers are loaded, over all teachers. Empty without a teacher.
     *
     * @return the findings, in the scan's order
     */
    public List<dev.tfkd.export.GraphSafety.Finding> teacherUnsafeOps() {
      return teachers.stream().distinct().flatMap(t -> t.unsafeOps().stream()).toList();
    }

    /**
     * Checks the options that need no data and returns the distiller.
     *
     * @return the distiller, ready to {@link Distiller#fit}
     */
    public Distiller build() {
      if (teachers.isEmpty() || student == null) {
        throw new IllegalArgumentException("a distillation needs a teacher and a student");
      }
      if (loss != null && logitOptionsSet) {
        throw new IllegalArgumentException("a loss spec replaces the divergence and the weights: give one or the other");
      }
      if (loss != null && loss.needsFeatures()) {
        for (Teacher t : teachers) {
          if (t instanceof GraphTeacher || (!several() && servesFeatures(t))) {
            continue;
          }
          throw new IllegalArgumentException(
              "the loss " + loss.describe() + " reads the teacher's feature points; " + t.source()
                  + (several()
                      ? " is not a tf-kd model that can run in the student's graph (a GraphTeacher), as every one of"
                          + " several teachers must be for feature terms"
                      : " neither runs in the student's graph (a GraphTeacher) nor serves feature points (a SavedModel"
                          + " teacher with named feature tensors or a features signature)"));
        }
      }
      objective(0);
      return new Distiller(this);
    }

    /** Whether {@code t} serves feature points with its logits, per batch ({@link BatchFeatures}). */
    static boolean servesFeatures(Teacher t) {
      return t instanceof BatchFeatures f && !f.featureShapes().isEmpty();
    }

    /** Whether the run uses the several-teacher objective (several teachers, or a combination asked for). */
    boolean several() {
      return teachers.size() > 1 || combination != null;
    }

    /**
     * The objective: one teacher's {@link Distillation} or loss spec, or the combination of several ({@link
     * MultiTeacherDistillation}, or the loss spec {@link LossSpec#withTeachers with the teachers}).
     */
    Objective objective(long seed) {
      if (!several()) {
        return loss != null ? loss : new Distillation(ceWeight, kdWeight, divergence);
      }
      TeacherCombination c = combination();
      return loss != null
          ? loss.withTeachers(c, teachers.size(), seed)
          : new MultiTeacherDistillation(ceWeight, kdWeight, divergence, c, teachers.size(), seed);
    }

    /** The combination of several teachers: as given, else the mean of the losses. */
    TeacherCombination combination() {
      return combination != null ? combination : TeacherCombination.meanOfLosses();
    }
  }

  /**
   * A warning when the teacher's accuracy on the training data is below twice chance (a likely mismatch of
   * preprocessing or output kind, which would make the student learn from noise), else empty. The logits are
   * already computed for training, so scoring them costs nothing.
   */
  static String nearChance(float[] logits, dev.tfkd.data.Dataset train) {
    int k = train.numClasses();
    if (k < 2 || train.size() == 0) {
      return "";
    }
    int correct = 0;
    for (int i = 0; i < train.size(); i++) {
      int best = 0;
      for (int c = 1; c < k; c++) {
        if (logits[i * k + c] > logits[i * k + best]) {
          best = c;
        }
      }
      correct += best == train.labels()[i] ? 1 : 0;
    }
    double accuracy = (double) correct / train.size();
    if (accuracy >= 2.0 / k) {
      return "";
    }
    return String.format(
        java.util.Locale.ROOT,
        "; warning: the teacher's accuracy on the training data is %.3f, near chance (%.3f): check"
            + " --teacher-preprocess and --teacher-output-kind",
        accuracy, 1.0 / k);
  }

  /** The first examples of {@code data}: what a teacher whose logits go to disk is checked on before the run. */
  private static dev.tfkd.data.Dataset sample(dev.tfkd.data.Dataset data) {
    return data.size() <= 1024 ? data : dev.tfkd.data.Splits.head(data, 1024);
  }

  /**
   * Runs the distillation (or continues it, with {@link Builder#resume}).
   *
   * @return what the run produced
   * @throws IllegalArgumentException for bad input (data, teacher, export root, disk space), before anything is
   *     written
   * @throws dev.tfkd.training.TrainingDivergedException when a loss is not finite; the last good checkpoint stays
   * @throws IOException when writing the run's files fails
   */
  public RunResult fit() throws IOException {
    Objective objective = b.objective(b.training.seed());
    List<Teacher> teachers = b.teachers;
    int m = teachers.size();
    Augmentation augmentation = b.training.augmentation();
    // Feature terms read the teacher's feature points: it runs in the student's graph, or answers every batch with
    // them (checked by build()).
    boolean online = !augmentation.isNone() || objective.needsFeatures();
    for (Teacher teacher : teachers) {
      if (!augmentation.isNone() && teacher instanceof CachedTeacher) {
        throw new IllegalArgumentException(
            "augmentation (" + String.join(",", augmentation.names()) + ") cannot use a cached teacher: its logits"
                + " are of the un-augmented examples; pass the teacher itself (" + teacher.source() + "), which then"
                + " sees every augmented batch");
      }
    }
    boolean teachersOpen = true;
    try {
      RunData data;
      float[] teacherTrain;
      List<ModelScore> others = new ArrayList<>();
      List<String> sources = new ArrayList<>();
      String reading;
      List<String> unsafeOps = new ArrayList<>();
      boolean onDisk = false;
      try {
        data = b.resolveData();
        // Logits that would not fit in memory (and every streamed training set's) go to the teacher's on-disk cache.
        onDisk = !online && (data.stream() != null || 4L * data.trainSize() * m * teachers.get(0).numClasses() > b.logitsInMemoryLimit);
        if (data.stream() != null && online) {
          throw new ConfigException(
              (augmentation.isNone() ? "feature terms, which run the teacher in the student's graph, are"
                  : "{training.augment} (" + String.join(",", augmentation.names()) + ") is")
                  + " not supported on streamed training data (" + data.trainName() + ")");
        }
        if (onDisk && m == 1 && !(teachers.get(0) instanceof CachedTeacher c && c.onDisk())) {
          throw new IllegalArgumentException(
              "the teacher's logits for " + data.trainName() + " (" + data.trainSize() + " examples) are kept on disk:"
                  + " give a CachedTeacher backed by TeacherLogitCache.inDirectory(...), or set {data.logit_cache}");
        }
        Architecture arch = b.student;
        if (arch.numClasses() != data.train().numClasses()
            || !Arrays.equals(arch.inputShape(), data.train().exampleShape())) {
          throw new IllegalArgumentException(
              arch.name() + " takes " + Arrays.toString(arch.inputShape()) + " into " + arch.numClasses()
                  + " classes; " + data.train().name() + " has " + Arrays.toString(data.train().exampleShape())
                  + " and " + data.train().numClasses());
        }
        if (!augmentation.isNone() && data.train().exampleShape().length != 3) {
          // Refused here, before the run directory exists, rather than by the trainer inside it.
          throw new ConfigException(
              "{training.augment} (" + String.join(",", augmentation.names()) + ") needs image examples [H, W, C]; "
                  + data.train().name() + " has examples of shape " + Arrays.toString(data.train().exampleShape()));
        }
        // With several teachers, or features read in the student's graph, the logits stay in memory.
        if (onDisk && m > 1) {
          throw new IllegalArgumentException(
              "the teachers' logits for " + data.trainName() + " (" + data.trainSize() + " examples) would be kept on"
                  + " disk (streamed data, or more than the in-memory limit), which only one teacher supports");
        }
        List<float[]> perTeacher = new ArrayList<>();
        List<String> readings = new ArrayList<>();
        for (int t = 0; t < m; t++) {
          Teacher teacher = teachers.get(t);
          String source = teacher.source();
          sources.add(source);
          teacher.unsafeOps().stream().map(dev.tfkd.export.GraphSafety.Finding::describe).forEach(unsafeOps::add);
          try {
            // Also with augmentation: these logits check that the teacher takes the data, and fingerprint the
            // teacher on it in the export's manifest. With logits on disk the teacher is checked on a sample here
            // (the whole pass comes once the run exists), asked directly so that nothing is cached before the run
            // is accepted.
            Teacher direct = onDisk ? ((CachedTeacher) teacher).uncached() : teacher;
            Dataset checked = onDisk ? sample(data.train()) : data.train();
            float[] logits = direct.logits(checked);
            perTeacher.add(logits);
            if (data.test() != null) {
              others.add(ModelScore.of(m == 1 ? "teacher" : "teacher-" + (t + 1), direct.logits(data.test()), data.test(), -1));
            }
            String r = teacher.outputReading() + nearChance(logits, checked);
            readings.add(m == 1 || r.isEmpty() ? r : "teacher " + (t + 1) + ": " + r);
          } catch (TensorFlowException e) {
            throw new IllegalArgumentException(
                source + ": the teacher does not accept " + data.train().name() + " (examples of shape "
                    + Arrays.toString(data.train().exampleShape()) + "): "
                    + e.getMessage().lines().findFirst().orElse(""));
          }
        }
        teacherTrain = m == 1 ? perTeacher.get(0) : sideBySide(perTeacher, data.train().size(), data.train().numClasses());
        reading = String.join("; ", readings.stream().filter(r -> !r.isEmpty()).toList());
        if (objective.needsFeatures() && m == 1 && Builder.servesFeatures(teachers.get(0))) {
          checkServedPoints(objective, b.student, ((BatchFeatures) teachers.get(0)).featureShapes(), teachers.get(0).source());
        }
      } finally {
        if (b.ownsTeacher && !online && !onDisk) {
          // The teachers' logits are all the run needs: their sessions are freed before the student trains.
          teachersOpen = false;
          closeAll(teachers);
        }
      }
      String source = String.join(" + ", sources);
      RunSettings s =
          b.settings(
              "distill", b.student.name(), DEFAULT_NAME,
              c -> {
                var d = c.getDistillationBuilder().setDivergence(b.divergenceSpec)
                    .setCeWeight(b.ceWeight).setKdWeight(b.kdWeight);
                if (b.loss != null) {
                  d.clearTerm();
                  for (LossSpec.Term t : b.loss.terms()) {
                    d.addTerm(dev.tfkd.config.LossTerm.newBuilder().setSpec(t.spec()).setWeight(t.weight()));
                  }
                }
                if (!b.several()) {
                  d.setTeacher(source);
                  return;
                }
                TeacherCombination combination = b.combination();
                d.setTeacherCombination(combination.mode().cliName());
                float[] w = combination.weights();
                for (int t = 0; t < m; t++) {
                  var section = d.addTeachersBuilder().setPath(sources.get(t));
                  if (w.length == m) {
                    section.setWeight(w[t]);
                  }
                }
              });
      TrainConfig tc = b.training;
      RunLifecycle life = new RunLifecycle(s, data);
      life.check(b.student, tc, 1, tc.epochs());
      life.start();
      b.onStart.accept(new RunStart(b.student, data.train(), objective.describe(), s.resume(), reading, data.stream()));
      LogitTable table = null;
      if (onDisk) {
        // One pass over the training data (streamed in file order, or in memory batch by batch) fills the cache
        // entry, or finds it from an earlier run; the student's batches then read their rows from disk.
        CachedTeacher cached = (CachedTeacher) teachers.get(0);
        table =
            data.stream() != null
                ? cached.logitTable(data.stream().shards(), tc.batchSize())
                : cached.logitTable(data.train(), tc.batchSize());
        life.recordTeacher(source, reading, unsafeOps, table.sha256());
      } else {
        life.recordTeacher(source, reading, unsafeOps, teacherTrain);
      }
      if (b.ownsTeacher && !online && teachersOpen) {
        teachersOpen = false;
        closeAll(teachers);
      }
      LogitTable logits = table;
      TrainedModel student =
          life.phase(
              life.directory().path(), "student", tc.epochs(),
              (listeners, options) -> {
                Trainer trainer = new Trainer(tc, listeners).replicated(b.replication);
                if (data.stream() != null) {
                  return trainer.trainStreamed(b.student, data.stream(), objective, logits, options);
                }
                if (logits != null) {
                  return trainer.trainFromTable(b.student, data.train(), objective, logits, options);
                }
                if (!online) {
                  return trainer.train(b.student, data.train(), objective, teacherTrain, options);
                }
                // Augmented: the teachers answer every augmented batch the student is fed, in the student's graph
                // if one teacher can be built there, else each in its own session on the batch-preparation thread.
                if (m == 1 && !b.several() && teachers.get(0) instanceof GraphTeacher g) {
                  return trainer.trainOnline(b.student, data.train(), objective, g.frozen(), options);
                }
                // A teacher that serves its feature points answers each batch with them, in its own session.
                if (m == 1 && !b.several() && objective.needsFeatures() && Builder.servesFeatures(teachers.get(0))) {
                  return trainer.trainOnline(b.student, data.train(), objective, (BatchFeatures) teachers.get(0), options);
                }
                if (objective.needsFeatures()) {
                  // Feature terms read every teacher's points: all of them run in the student's graph (build()
                  // checked that each is a GraphTeacher).
                  List<FrozenTeacher> frozen = teachers.stream().map(t -> ((GraphTeacher) t).frozen()).toList();
                  return trainer.trainOnline(b.student, data.train(), objective, frozen, options);
                }
                int k = data.train().numClasses();
                return trainer.trainOnline(
                    b.student, data.train(), objective,
                    (features, n) -> {
                      List<float[]> answers = new ArrayList<>(m);
                      for (Teacher teacher : teachers) {
                        answers.add(teacher.logits(features, n));
                      }
                      return m == 1 ? answers.get(0) : sideBySide(answers, n, k);
                    },
                    options);
              });
      return life.finish(
          student, others,
          new RunLifecycle.Extras(student.history(), tc.epochs(), List.of(student), null, null, null));
    } finally {
      if (b.ownsTeacher && teachersOpen) {
        closeAll(teachers);
      }
    }
  }

  /**
   * Builds {@code objective} once in a scratch graph (never run) on the student's points and placeholders of the
   * teacher's served points, so a loss that reads a point the teacher does not serve, or one of a shape it cannot
   * take, is refused with one line before the run directory exists rather than inside the run.
   */
  private static void checkServedPoints(
      Objective objective, Architecture student, java.util.Map<String, long[]> points, String teacher) {
    try (org.tensorflow.Graph g = new org.tensorflow.Graph()) {
      org.tensorflow.op.Ops tf = org.tensorflow.op.Ops.create(g);
      var x = tf.placeholder(org.tensorflow.types.TFloat32.class,
          org.tensorflow.op.core.Placeholder.shape(dev.tfkd.graph.InferenceModel.batchShape(student.inputShape())));
      dev.tfkd.graph.TrainingVariables vars = new dev.tfkd.graph.TrainingVariables(0);
      var forward = student.build(tf, x, vars, Architecture.Mode.TRAINING);
      java.util.Map<String, org.tensorflow.Operand<org.tensorflow.types.TFloat32>> fed = new java.util.LinkedHashMap<>();
      points.forEach((name, shape) -> {
        long[] dims = new long[shape.length + 1];
        dims[0] = -1;
        System.arraycopy(shape, 0, dims, 1, shape.length);
        fed.put(name, tf.placeholder(org.tensorflow.types.TFloat32.class,
            org.tensorflow.op.core.Placeholder.shape(org.tensorflow.ndarray.Shape.of(dims))));
      });
      int k = student.numClasses();
      var labels = tf.placeholder(org.tensorflow.types.TInt32.class);
      var teacherLogits = tf.placeholder(org.tensorflow.types.TFloat32.class,
          org.tensorflow.op.core.Placeholder.shape(org.tensorflow.ndarray.Shape.of(-1, k)));
      objective.build(
          tf, forward.logits(), teacherLogits,
          new dev.tfkd.losses.LossContext(labels, tf.oneHot(labels, tf.constant(k), tf.constant(1f), tf.constant(0f)),
              tf.constant(0f)),
          new dev.tfkd.training.FeatureInputs(forward.features(), fed, vars));
    } catch (IllegalArgumentException | TensorFlowException e) {
      StringBuilder served = new StringBuilder();
      points.forEach((name, shape) -> served.append(served.length() == 0 ? "" : ", ").append(name)
          .append(' ').append(Arrays.toString(shape)));
      String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
      throw new IllegalArgumentException(
          "the loss " + objective.describe() + " cannot read the feature points " + teacher + " serves (" + served
              + "): " + why, e);
    }
  }

  /**
   * Several teachers' logits for the same {@code n} examples ({@code n x K} each) side by side, {@code n x (M K)}:
   * example {@code i}'s row holds teacher 1's K logits, then teacher 2's, as {@link MultiTeacherDistillation} reads
   * them.
   */
  static float[] sideBySide(List<float[]> logits, int n, int k) {
    int m = logits.size();
    float[] out = new float[n * m * k];
    for (int t = 0; t < m; t++) {
      float[] z = logits.get(t);
      if (z.length != n * k) {
        throw new IllegalStateException("teacher " + (t + 1) + " gave " + z.length + " logits; expected " + n + " x " + k);
      }
      for (int i = 0; i < n; i++) {
        System.arraycopy(z, i * k, out, (i * m + t) * k, k);
      }
    }
    return out;
  }

  private static void closeAll(List<Teacher> teachers) {
    RuntimeException first = null;
    // A teacher given twice is closed once.
    for (Teacher t : new java.util.LinkedHashSet<>(teachers)) {
      try {
        t.close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
