package dev.tfkd.run;

import dev.tfkd.config.ConfigException;
import dev.tfkd.config.RunConfig;
import dev.tfkd.data.Augmentation;
import dev.tfkd.graph.Architecture;
import dev.tfkd.losses.Divergence;
import dev.tfkd.losses.Divergences;
import dev.tfkd.teacher.CachedTeacher;
import dev.tfkd.teacher.GraphTeacher;
import dev.tfkd.teacher.Teacher;
import dev.tfkd.training.Distillation;
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
    private Teacher teacher;
    private boolean ownsTeacher;
    private Architecture student;
    private Divergence divergence = Divergences.parse("kl");
    private String divergenceSpec = "kl";
    private float ceWeight = 0.1f;
    private float kdWeight = 0.9f;
    private long logitsInMemoryLimit = Runtime.getRuntime().maxMemory() / 8;

    private Builder() {}

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
      this.teacher = Objects.requireNonNull(teacher, "teacher");
      this.ownsTeacher = false;
      return this;
    }

    /** A teacher the run closes once it has the logits it needs (after training, when it runs online). */
    Builder ownedTeacher(Teacher teacher) {
      teacher(teacher);
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
      return this;
    }

    /**
     * Checks the options that need no data and returns the distiller.
     *
     * @return the distiller, ready to {@link Distiller#fit}
     */
    public Distiller build() {
      if (teacher == null || student == null) {
        throw new IllegalArgumentException("a distillation needs a teacher and a student");
      }
      new Distillation(ceWeight, kdWeight, divergence);
      return new Distiller(this);
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
    Distillation objective = new Distillation(b.ceWeight, b.kdWeight, b.divergence);
    Teacher teacher = b.teacher;
    Augmentation augmentation = b.training.augmentation();
    boolean online = !augmentation.isNone();
    if (online && teacher instanceof CachedTeacher) {
      throw new IllegalArgumentException(
          "augmentation (" + String.join(",", augmentation.names()) + ") cannot use a cached teacher: its logits are"
              + " of the un-augmented examples; pass the teacher itself (" + teacher.source() + "), which then sees"
              + " every augmented batch");
    }
    boolean teacherOpen = true;
    try {
      RunData data;
      float[] teacherTrain;
      List<ModelScore> others = new ArrayList<>();
      String source;
      String reading;
      boolean onDisk = false;
      try {
        data = b.resolveData();
        // Logits that would not fit in memory (and every streamed training set's) go to the teacher's on-disk cache.
        onDisk = !online && (data.stream() != null || 4L * data.trainSize() * teacher.numClasses() > b.logitsInMemoryLimit);
        if (data.stream() != null && online) {
          throw new ConfigException(
              "{training.augment} (" + String.join(",", augmentation.names()) + ") is not supported on streamed training"
                  + " data (" + data.trainName() + ")");
        }
        if (onDisk && !(teacher instanceof CachedTeacher c && c.onDisk())) {
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
        if (online && data.train().exampleShape().length != 3) {
          // Refused here, before the run directory exists, rather than by the trainer inside it.
          throw new ConfigException(
              "{training.augment} (" + String.join(",", augmentation.names()) + ") needs image examples [H, W, C]; "
                  + data.train().name() + " has examples of shape " + Arrays.toString(data.train().exampleShape()));
        }
        source = teacher.source();
        try {
          // Also with augmentation: these logits check that the teacher takes the data, and fingerprint the
          // teacher on it in the export's manifest.
          // With logits on disk the teacher is checked on a sample here (the whole pass comes once the run exists),
          // asked directly so that nothing is cached before the run is accepted.
          teacherTrain =
              onDisk
                  ? ((CachedTeacher) teacher).uncached().logits(sample(data.train()))
                  : teacher.logits(data.train());
          if (data.test() != null) {
            Teacher scorer = onDisk ? ((CachedTeacher) teacher).uncached() : teacher;
            others.add(ModelScore.of("teacher", scorer.logits(data.test()), data.test(), -1));
          }
          reading = teacher.outputReading() + nearChance(teacherTrain, onDisk ? sample(data.train()) : data.train());
        } catch (TensorFlowException e) {
          throw new IllegalArgumentException(
              source + ": the teacher does not accept " + data.train().name() + " (examples of shape "
                  + Arrays.toString(data.train().exampleShape()) + "): "
                  + e.getMessage().lines().findFirst().orElse(""));
        }
      } finally {
        if (b.ownsTeacher && !online && !onDisk) {
          // The teacher's logits are all the run needs: its session is freed before the student trains.
          teacherOpen = false;
          teacher.close();
        }
      }
      RunSettings s =
          b.settings(
              "distill", b.student.name(), DEFAULT_NAME,
              c -> c.getDistillationBuilder().setTeacher(source).setDivergence(b.divergenceSpec)
                  .setCeWeight(b.ceWeight).setKdWeight(b.kdWeight));
      TrainConfig tc = b.training;
      RunLifecycle life = new RunLifecycle(s, data);
      life.check(b.student, tc, 1, tc.epochs());
      life.start();
      b.onStart.accept(new RunStart(b.student, data.train(), objective.describe(), s.resume(), reading, data.stream()));
      LogitTable table = null;
      if (onDisk) {
        // One pass over the training data (streamed in file order, or in memory batch by batch) fills the cache
        // entry, or finds it from an earlier run; the student's batches then read their rows from disk.
        CachedTeacher cached = (CachedTeacher) teacher;
        table =
            data.stream() != null
                ? cached.logitTable(data.stream().shards(), tc.batchSize())
                : cached.logitTable(data.train(), tc.batchSize());
        life.recordTeacher(source, reading, table.sha256());
      } else {
        life.recordTeacher(source, reading, teacherTrain);
      }
      if (b.ownsTeacher && !online && teacherOpen) {
        teacherOpen = false;
        teacher.close();
      }
      LogitTable logits = table;
      TrainedModel student =
          life.phase(
              life.directory().path(), "student", tc.epochs(),
              (listeners, options) -> {
                Trainer trainer = new Trainer(tc, listeners);
                if (data.stream() != null) {
                  return trainer.trainStreamed(b.student, data.stream(), objective, logits, options);
                }
                if (logits != null) {
                  return trainer.trainFromTable(b.student, data.train(), objective, logits, options);
                }
                if (!online) {
                  return trainer.train(b.student, data.train(), objective, teacherTrain, options);
                }
                // Augmented: the teacher answers every augmented batch the student is fed, in the student's graph
                // if it can be built there, else in its own session on the batch-preparation thread.
                if (teacher instanceof GraphTeacher g) {
                  return trainer.trainOnline(b.student, data.train(), objective, g.frozen(), options);
                }
                return trainer.trainOnline(b.student, data.train(), objective, teacher::logits, options);
              });
      return life.finish(
          student, others,
          new RunLifecycle.Extras(student.history(), tc.epochs(), List.of(student), null, null, null));
    } finally {
      if (b.ownsTeacher && teacherOpen) {
        teacher.close();
      }
    }
  }
}
