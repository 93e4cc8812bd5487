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
import dev.tfkd.features.LossSpec;
import dev.tfkd.training.Distillation;
import dev.tfkd.training.Objective;
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
    private LossSpec loss;
    private boolean logitOptionsSet;

    private Builder() {}

    /**
     * The student's loss as a weighted sum of terms, e.g. {@code ce:1, kl(T=4):0.9, at:1000} ({@link
     * LossSpec#parse}): cross-entropy, logit divergences and feature losses. Replaces {@link #divergence} and {@link
     * #weights}, which may then not be set. Feature terms need the teacher's feature points: the teacher must be a
     * {@link GraphTeacher}, which then runs in the student's training graph.
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
     * Checks the options that need no data and returns the distiller.
     *
     * @return the distiller, ready to {@link Distiller#fit}
     */
    public Distiller build() {
      if (teacher == null || student == null) {
        throw new IllegalArgumentException("a distillation needs a teacher and a student");
      }
      if (loss != null && logitOptionsSet) {
        throw new IllegalArgumentException("a loss spec replaces the divergence and the weights: give one or the other");
      }
      if (loss == null) {
        new Distillation(ceWeight, kdWeight, divergence);
      } else if (loss.needsFeatures() && !(teacher instanceof GraphTeacher)) {
        throw new IllegalArgumentException(
            "the loss " + loss.describe() + " reads the teacher's feature points; " + teacher.source() + " is not a"
                + " tf-kd model that can run in the student's graph (a GraphTeacher)");
      }
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
    Objective objective = b.loss != null ? b.loss : new Distillation(b.ceWeight, b.kdWeight, b.divergence);
    Teacher teacher = b.teacher;
    Augmentation augmentation = b.training.augmentation();
    // Feature terms read the teacher's feature points: it runs in the student's graph (checked by build()).
    boolean online = !augmentation.isNone() || objective.needsFeatures();
    if (!augmentation.isNone() && teacher instanceof CachedTeacher) {
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
      try {
        data = b.resolveData();
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
        source = teacher.source();
        try {
          // Also with augmentation: these logits check that the teacher takes the data, and fingerprint the
          // teacher on it in the export's manifest.
          teacherTrain = teacher.logits(data.train());
          if (data.test() != null) {
            others.add(ModelScore.of("teacher", teacher.logits(data.test()), data.test(), -1));
          }
          reading = teacher.outputReading() + nearChance(teacherTrain, data.train());
        } catch (TensorFlowException e) {
          throw new IllegalArgumentException(
              source + ": the teacher does not accept " + data.train().name() + " (examples of shape "
                  + Arrays.toString(data.train().exampleShape()) + "): "
                  + e.getMessage().lines().findFirst().orElse(""));
        }
      } finally {
        if (b.ownsTeacher && !online) {
          // The teacher's logits are all the run needs: its session is freed before the student trains.
          teacherOpen = false;
          teacher.close();
        }
      }
      RunSettings s =
          b.settings(
              "distill", b.student.name(), DEFAULT_NAME,
              c -> {
                var d = c.getDistillationBuilder().setTeacher(source).setDivergence(b.divergenceSpec)
                    .setCeWeight(b.ceWeight).setKdWeight(b.kdWeight);
                if (b.loss != null) {
                  d.clearTerm();
                  for (LossSpec.Term t : b.loss.terms()) {
                    d.addTerm(dev.tfkd.config.LossTerm.newBuilder().setSpec(t.spec()).setWeight(t.weight()));
                  }
                }
              });
      TrainConfig tc = b.training;
      RunLifecycle life = new RunLifecycle(s, data);
      life.check(b.student, tc, 1, tc.epochs());
      life.start();
      b.onStart.accept(new RunStart(b.student, data.train(), objective.describe(), s.resume(), reading));
      life.recordTeacher(source, reading, teacherTrain);
      TrainedModel student =
          life.phase(
              life.directory().path(), "student", tc.epochs(),
              (listeners, options) -> {
                Trainer trainer = new Trainer(tc, listeners);
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
