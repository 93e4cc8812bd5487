package dev.tfkd.run;

import dev.tfkd.config.RunConfig;
import dev.tfkd.config.RunConfigs;
import dev.tfkd.config.TrainingConfig;
import dev.tfkd.data.Augmentation;
import dev.tfkd.data.Dataset;
import dev.tfkd.training.EarlyStopping;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The options every run shares (data, training settings, run directory, export, listeners, early stopping,
 * resume), for {@link Distiller.Builder} and {@link TeacherTrainer.Builder}.
 *
 * <p>Defaults: 10 epochs of 128 examples, Adam at 0.001, seed 1, TensorFlow's default threads, export to {@code
 * RUN_DIR/export}, no early stopping.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract class RunBuilder<B extends RunBuilder<B>> {
  Dataset train;
  TrainStream trainStream;
  Dataset validation;
  Dataset test;
  double validationSplit;
  RunData data;
  TrainConfig training = new TrainConfig(10, 128, OptimizerConfig.adam(1e-3f), 1, 0);
  Path runDirectory;
  Path exportRoot;
  boolean export = true;
  String exportName;
  boolean resume;
  final List<PhaseListener> listeners = new ArrayList<>();
  RunSettings.EarlyStop earlyStopping;
  Consumer<RunStart> onStart = s -> {};
  RunConfig config;

  RunBuilder() {}

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }

  /**
   * The training data.
   *
   * @param train the training examples
   * @return this builder
   */
  public B train(Dataset train) {
    this.train = Objects.requireNonNull(train, "train");
    return self();
  }

  /**
   * Training data read as a stream (sharded TFRecord files larger than memory) instead of {@link #train(Dataset)}.
   *
   * @param train the stream
   * @return this builder
   */
  public B train(TrainStream train) {
    this.trainStream = Objects.requireNonNull(train, "train");
    return self();
  }

  /**
   * Data scored after every epoch (and, without {@link #test}, for the final figures).
   *
   * @param validation the validation examples, or {@code null} for none
   * @return this builder
   */
  public B validation(Dataset validation) {
    this.validation = validation;
    return self();
  }

  /**
   * Holds out this fraction of the training data (a seeded shuffle) for validation and the final figures.
   *
   * @param fraction the share of the training data held out, in (0, 1)
   * @return this builder
   */
  public B validation(double fraction) {
    this.validationSplit = fraction;
    return self();
  }

  /**
   * The data of the final figures (and, without {@link #validation}, of the validation after every epoch).
   *
   * @param test the test examples, or {@code null}
   * @return this builder
   */
  public B test(Dataset test) {
    this.test = test;
    return self();
  }

  /**
   * All the data at once, as a configuration resolves it.
   *
   * @param data the training, validation and test data
   * @return this builder
   */
  public B data(RunData data) {
    this.data = data;
    return self();
  }

  /**
   * Every training setting at once: epochs, batch size, optimizer and schedule, seed, threads.
   *
   * @param training the training configuration
   * @return this builder
   */
  public B training(TrainConfig training) {
    this.training = Objects.requireNonNull(training, "training");
    return self();
  }

  /**
   * Passes over the training data.
   *
   * @param epochs the number of epochs, at least 1
   * @return this builder
   */
  public B epochs(int epochs) {
    this.training = training.withEpochs(epochs);
    return self();
  }

  /**
   * Examples per step.
   *
   * @param batchSize the batch size, at least 1
   * @return this builder
   */
  public B batchSize(int batchSize) {
    TrainConfig t = training;
    this.training = new TrainConfig(t.epochs(), batchSize, t.optimizer(), t.seed(), t.threads(), t.augmentation());
    return self();
  }

  /**
   * The optimizer, its learning rate, momentum, weight decay and schedule.
   *
   * @param optimizer the optimizer configuration
   * @return this builder
   */
  public B optimizer(OptimizerConfig optimizer) {
    TrainConfig t = training;
    this.training = new TrainConfig(t.epochs(), t.batchSize(), optimizer, t.seed(), t.threads(), t.augmentation());
    return self();
  }

  /**
   * The one seed for weights, validation split and data order.
   *
   * @param seed the run's seed
   * @return this builder
   */
  public B seed(long seed) {
    this.training = training.withSeed(seed);
    return self();
  }

  /**
   * TensorFlow threads; 0: all cores, 1: bit-reproducible.
   *
   * @param threads intra-op threads, 0 to {@link dev.tfkd.training.SessionSettings#MAX_THREADS}
   * @return this builder
   */
  public B threads(int threads) {
    TrainConfig t = training;
    this.training = new TrainConfig(t.epochs(), t.batchSize(), t.optimizer(), t.seed(), threads, t.augmentation());
    return self();
  }

  /**
   * Augments every training batch (random crop after padding, horizontal flip) before the model sees it; a
   * distillation's teacher then runs online and sees the same augmented batch. Needs image examples {@code [H, W,
   * C]}; {@link Augmentation#NONE} (the default) for none.
   */
  public B augment(Augmentation augmentation) {
    this.training = training.withAugmentation(Objects.requireNonNull(augmentation, "augmentation"));
    return self();
  }

  /**
   * Where checkpoints, logs, {@code run_config.pbtxt}, {@code results.json} and the report go. Required.
   *
   * @param dir the run directory; created by the run if absent
   * @return this builder
   */
  public B runDirectory(Path dir) {
    this.runDirectory = Objects.requireNonNull(dir, "dir");
    return self();
  }

  /**
   * Exports the trained model as the next integer version of {@code root/NAME} (default root: RUN_DIR/export).
   *
   * @param root the export root
   * @return this builder
   */
  public B exportTo(Path root) {
    this.exportRoot = Objects.requireNonNull(root, "root");
    this.export = true;
    return self();
  }

  /**
   * The model's name under the export root and in the results (default: {@code student}, {@code teacher-OBJECTIVE}).
   *
   * @param name letters, digits, {@code .}, {@code _} and {@code -} only
   * @return this builder
   */
  public B modelName(String name) {
    if (name == null || !name.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException(
          "the model name may hold only letters, digits, '.', '_' and '-', got '" + name + "'");
    }
    this.exportName = name;
    return self();
  }

  /**
   * Trains and scores without exporting.
   *
   * @return this builder
   */
  public B noExport() {
    this.export = false;
    this.exportRoot = null;
    return self();
  }

  /**
   * Adds a listener made afresh for each phase of the run (e.g. a progress display).
   *
   * @param listener makes a training listener for each phase
   * @return this builder
   */
  public B listener(PhaseListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
    return self();
  }

  /**
   * Stops after {@code patience} epochs without an improvement of at least {@code minDelta} in {@code metric}.
   *
   * @param metric the validation metric watched
   * @param patience epochs without improvement before stopping, at least 1
   * @param minDelta the smallest change counted as an improvement, at least 0
   * @return this builder
   */
  public B earlyStopping(EarlyStopping.Metric metric, int patience, double minDelta) {
    if (patience < 1 || !(minDelta >= 0)) {
      throw new IllegalArgumentException("early stopping needs patience >= 1 and min delta >= 0");
    }
    this.earlyStopping = new RunSettings.EarlyStop(Objects.requireNonNull(metric, "metric"), patience, minDelta);
    return self();
  }

  /**
   * Continues the run in the run directory from its latest checkpoint (a finished phase is not trained again; an
   * export the run had already published is reused).
   *
   * @param resume whether to continue from the run directory's latest checkpoint
   * @return this builder
   */
  public B resume(boolean resume) {
    this.resume = resume;
    return self();
  }

  /**
   * Called once every check has passed, just before the first step (e.g. to announce the run).
   *
   * @param onStart receives what is about to run
   * @return this builder
   */
  public B onStart(Consumer<RunStart> onStart) {
    this.onStart = Objects.requireNonNull(onStart, "onStart");
    return self();
  }

  /**
   * The configuration saved in the run directory and recorded in the export's manifest; by default one is
   * written from the builder's settings.
   *
   * @param config the configuration to record, or {@code null} to write one from the builder
   * @return this builder
   */
  public B config(RunConfig config) {
    this.config = config;
    return self();
  }

  /** Applies a resolved configuration's shared fields: training, output, early stopping. */
  B apply(RunConfig c, RunData d) {
    data(d);
    training(RunConfigs.trainConfig(c));
    runDirectory(Path.of(c.getOutput().getRunDir()));
    if (!c.getOutput().getExportDir().isBlank()) {
      exportTo(Path.of(c.getOutput().getExportDir()));
    }
    var es = c.getEarlyStopping();
    if (es.getPatience() > 0) {
      earlyStopping(EarlyStopping.Metric.valueOf(es.getMetric().toUpperCase(Locale.ROOT)), es.getPatience(), es.getMinDelta());
    }
    return config(c);
  }

  /** The run's data as given. */
  RunData resolveData() {
    if (data != null) {
      return data;
    }
    if (trainStream != null) {
      if (train != null || validationSplit != 0) {
        throw new IllegalArgumentException(
            "streamed training data takes no second training set and no validation fraction; give test data instead");
      }
      Dataset t = test != null ? test : validation;
      return new RunData(trainStream.shards().sample(), validation != null ? validation : t, t, trainStream);
    }
    if (train == null) {
      throw new IllegalArgumentException("a run needs training data: train(Dataset)");
    }
    if (validationSplit != 0) {
      if (validation != null || test != null) {
        throw new IllegalArgumentException("give either a validation fraction or validation/test data, not both");
      }
      return RunData.split(train, validationSplit, training.seed());
    }
    return new RunData(train, validation != null ? validation : test, test != null ? test : validation);
  }

  /** The settings of the run, {@code command}'s configuration written from them when none was given. */
  RunSettings settings(String command, String model, String defaultName, Consumer<RunConfig.Builder> own) {
    if (runDirectory == null) {
      throw new IllegalArgumentException("a run needs a run directory: runDirectory(Path)");
    }
    RunConfig c = config;
    if (c == null) {
      RunConfig.Builder b = RunConfig.newBuilder().setCommand(command).setModel(model);
      RunData d = resolveData();
      b.getDataBuilder().setTrain(d.trainName());
      if (d.test() != null) {
        b.getDataBuilder().setTest(d.test().name());
      }
      if (d.stream() != null) {
        TrainStream st = d.stream();
        b.getDataBuilder().setStream(true).setClasses(st.shards().numClasses()).setShuffleBuffer(st.shuffleBuffer())
            .setStepsPerEpoch(st.stepsPerEpoch()).setParserThreads(st.parserThreads());
      }
      TrainingConfig.Builder t = b.getTrainingBuilder();
      OptimizerConfig o = training.optimizer();
      t.setEpochs(training.epochs()).setBatchSize(training.batchSize()).setSeed(training.seed())
          .setThreads(training.threads()).setLearningRate(o.learningRate()).setMomentum(o.momentum())
          .setWeightDecay(o.weightDecay())
          .setOptimizer(o.kind() == OptimizerConfig.Kind.SGD ? TrainingConfig.Optimizer.SGD : TrainingConfig.Optimizer.ADAM)
          .setSchedule(
              o.schedule() == OptimizerConfig.Schedule.COSINE
                  ? TrainingConfig.Schedule.COSINE
                  : TrainingConfig.Schedule.CONSTANT)
          .addAllAugment(training.augmentation().names());
      b.getOutputBuilder().setRunDir(runDirectory.toString());
      if (exportRoot != null) {
        b.getOutputBuilder().setExportDir(exportRoot.toString());
      }
      own.accept(b);
      c = b.build();
    }
    Path root = !export ? null : exportRoot != null ? exportRoot : RunDirectory.at(runDirectory).defaultExportRoot();
    return new RunSettings(
        c, runDirectory, resume, root, exportName != null ? exportName : defaultName, training.threads(),
        List.copyOf(listeners), earlyStopping);
  }
}
