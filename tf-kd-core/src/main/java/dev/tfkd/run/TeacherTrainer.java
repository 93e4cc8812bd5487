package dev.tfkd.run;

import dev.tfkd.config.RunConfig;
import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Architecture;
import dev.tfkd.io.AtomicFiles;
import dev.tfkd.io.Json;
import dev.tfkd.metrics.EmpiricalCmi;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.objectives.McmiFineTune;
import dev.tfkd.objectives.TeacherObjectives;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener.EpochMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * Trains a teacher with one of the teacher objectives ({@link TeacherObjectives.Spec}: mll, mcmi, cmim, mse,
 * label-smoothing) as a run like {@link Distiller}'s, scores it (with its CMI per epoch when validated) and
 * exports it with {@value #EVALUATION_FILE} beside the SavedModel.
 *
 * <p>An mcmi run has two phases, each checkpointed: MLL training in the run directory, then fine-tuning with
 * {@code CE - lambda * CMI} in {@code RUN_DIR/}{@value #FINETUNE_DIR} (its own checkpoints and logs). A resumed
 * run takes the first phase's final checkpoint if it had finished and continues whichever phase was interrupted.
 * This is the one implementation of the objectives' schedules: the command line and applications both use it.
 */
public final class TeacherTrainer {
  /** The directory of the MCMI fine-tuning phase inside the run directory. */
  public static final String FINETUNE_DIR = "finetune";

  /** The evaluation written beside an exported teacher's {@code saved_model.pb}. */
  public static final String EVALUATION_FILE = "evaluation.json";

  private final Builder b;

  private TeacherTrainer(Builder b) {
    this.b = b;
  }

  /**
   * A builder with the defaults of {@link RunBuilder} and the objective {@code mll}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder set from a resolved {@code train-teacher} configuration (see {@link RunSpec#teacherTrainer}).
   *
   * @param config the resolved configuration
   * @param resume continue the run in the configuration's run directory
   * @param models makes the teacher's architecture from the {@code model} field
   * @return a builder
   */
  public static Builder fromConfig(RunConfig config, boolean resume, ArchitectureFactory models) {
    return RunSpec.teacherTrainer(config, resume, models);
  }

  /** Options of a teacher run; {@link #architecture}, training data and run directory are required. */
  public static final class Builder extends RunBuilder<Builder> {
    private Architecture architecture;
    private TeacherObjectives.Spec objective = TeacherObjectives.Spec.of(TeacherObjectives.Kind.MLL);

    private Builder() {}

    /**
     * The teacher's architecture.
     *
     * @param architecture the teacher's architecture
     * @return this builder
     */
    public Builder architecture(Architecture architecture) {
      this.architecture = Objects.requireNonNull(architecture, "architecture");
      return this;
    }

    /**
     * The objective and its parameters (for mcmi, the fine-tuning phase too).
     *
     * @param objective the objective and its parameters
     * @return this builder
     */
    public Builder objective(TeacherObjectives.Spec objective) {
      this.objective = Objects.requireNonNull(objective, "objective");
      return this;
    }

    /**
     * Checks the options that need no data and returns the trainer.
     *
     * @return the trainer, ready to {@link TeacherTrainer#fit}
     */
    public TeacherTrainer build() {
      if (architecture == null) {
        throw new IllegalArgumentException("a teacher run needs an architecture");
      }
      return new TeacherTrainer(this);
    }
  }

  /**
   * The default export name of a teacher trained with {@code kind}: {@code teacher-<objective>}.
   *
   * @param kind the objective
   * @return {@code teacher-} followed by the objective's command-line name
   */
  public static String defaultName(TeacherObjectives.Kind kind) {
    return "teacher-" + kind.cliName();
  }

  /**
   * Trains the teacher (or continues its run, with {@link Builder#resume}).
   *
   * @return what the run produced
   * @throws IllegalArgumentException for bad input, before anything is written
   * @throws dev.tfkd.training.TrainingDivergedException when a loss is not finite; the last good checkpoint stays
   * @throws IOException when writing the run's files fails
   */
  public RunResult fit() throws IOException {
    TeacherObjectives.Spec spec = b.objective;
    Architecture arch = b.architecture;
    RunData data = b.resolveData();
    if (arch.numClasses() != data.train().numClasses() || !Arrays.equals(arch.inputShape(), data.train().exampleShape())) {
      throw new IllegalArgumentException(
          arch.name() + " takes " + Arrays.toString(arch.inputShape()) + " into " + arch.numClasses()
              + " classes; " + data.train().name() + " has " + Arrays.toString(data.train().exampleShape()) + " and "
              + data.train().numClasses());
    }
    boolean mcmi = spec.kind() == TeacherObjectives.Kind.MCMI;
    if (data.stream() != null && (mcmi || !b.training.augmentation().isNone())) {
      // MCMI's fine-tuning keeps centroids over the whole training set; augmentation is not streamed.
      throw new dev.tfkd.config.ConfigException(
          "streamed training data (" + data.trainName() + ") supports neither {teacher.objective} mcmi nor"
              + " {training.augment}");
    }
    // The fine-tuning's CMI weight is the objective's lambda.
    McmiFineTune given = spec.fineTune();
    McmiFineTune ft =
        new McmiFineTune(spec.lambda(), given.centroids(), given.emaMomentum(), given.epochs(), given.optimizer());
    RunSettings s =
        b.settings(
            "train-teacher", arch.name(), defaultName(spec.kind()),
            c -> c.getTeacherBuilder().setObjective(spec.kind().cliName()).setLambda(spec.lambda())
                .setSmoothing(spec.smoothing()).setCentroids(ft.centroids().cliName())
                .setFinetuneEpochs(ft.epochs()).setFinetuneLearningRate(ft.optimizer().learningRate()));
    TrainConfig tc = b.training;
    RunLifecycle life = new RunLifecycle(s, data);
    life.check(arch, tc, mcmi ? 2 : 1, tc.epochs() + (mcmi ? ft.epochs() : 0));
    life.start();
    b.onStart.accept(new RunStart(arch, data.train(), spec.describe(), s.resume(), "", data.stream()));
    Path runDir = life.directory().path();
    TrainedModel first =
        life.phase(
            runDir, mcmi ? "mll" : "teacher", tc.epochs(),
            (listeners, options) ->
                data.stream() != null
                    ? new Trainer(tc, listeners).replicated(b.replication).trainStreamed(arch, data.stream(), spec.firstPhase(), null, options)
                    : new Trainer(tc, listeners).replicated(b.replication).train(arch, data.train(), spec.firstPhase(), null, options));
    List<EpochMetrics> history = new ArrayList<>(first.history());
    List<TrainedModel> phases = new ArrayList<>(List.of(first));
    int planned = tc.epochs();
    TrainedModel teacher = first;
    String note = null;
    if (mcmi) {
      teacher =
          life.phase(
              runDir.resolve(FINETUNE_DIR), "mcmi fine-tuning", ft.epochs(),
              (listeners, options) -> ft.run(first, data.train(), tc, listeners, options));
      phases.add(teacher);
      // One run of two phases: the fine-tuning epochs are numbered on after the MLL epochs in the report.
      int epochs = history.size();
      long steps = history.isEmpty() ? 0 : history.get(history.size() - 1).globalStep();
      teacher.history().forEach(e -> history.add(e.shifted(epochs, steps)));
      planned += ft.epochs();
      note = "MLL epochs 1-" + epochs + ", MCMI fine-tuning epochs " + (epochs + 1) + "-" + history.size();
    }
    double[] cmi =
        !history.isEmpty() && history.stream().allMatch(e -> e.validation() != null)
            ? history.stream().mapToDouble(e -> e.validation().cmi()).toArray()
            : null;
    long seed = tc.seed();
    return life.finish(
        teacher, List.of(),
        new RunLifecycle.Extras(
            history, planned, phases, cmi,
            (model, scored, files) -> {
              if (scored == null) {
                return OptionalDouble.empty();
              }
              // Streamed data: measured on the stream's sample (the first records of each shard).
              Dataset train = data.train();
              double trainCmi = EmpiricalCmi.of(model.logits(train), train.labels(), train.numClasses(), 1);
              files.put(
                  EVALUATION_FILE,
                  evaluationJson(scored.evaluation(), data.test().name(), trainCmi, spec.describe(), seed)
                      .getBytes(java.nio.charset.StandardCharsets.UTF_8));
              return OptionalDouble.of(trainCmi);
            },
            note));
  }

  /**
   * {@code e} as the JSON written beside the export ({@value #EVALUATION_FILE}).
   *
   * @param e the figures
   * @param data the test data's name
   * @param trainCmi the empirical CMI on the training data
   * @param objective the objective as described in the run
   * @param seed the run's seed
   * @return the JSON text
   */
  public static String evaluationJson(Evaluation e, String data, double trainCmi, String objective, long seed) {
    return Json.object()
            .put("data", data)
            .put("objective", objective)
            .put("seed", seed)
            .put("examples", e.examples())
            .put("accuracy", e.accuracy())
            .put("nll", e.nll())
            .put("ece", e.ece())
            .put("cmi", e.cmi())
            .put("trainCmi", trainCmi)
            .put("klToPosterior", e.klToPosterior())
            .put("bcpdError", e.bcpdError())
            .put("perClassAccuracy", e.perClassAccuracy())
        + "\n";
  }
}
