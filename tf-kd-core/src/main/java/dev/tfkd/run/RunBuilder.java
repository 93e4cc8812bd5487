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
  List<Integer> warmupBatchSizes;
  boolean resume;
  final List<PhaseListener> listeners = new ArrayList<>();
  RunSettings.EarlyStop earlyStopping;
  Consumer<RunStart> onStart = s -> {};
  List<String> classNames;
  boolean allowSignatureChange;
  boolean exportFeatures;
  RunConfig config;
  dev.tfkd.training.Replication replication = dev.tfkd.training.Replication.NONE;

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
   * The batch sizes of the export's TensorFlow Serving warm-up records (default: 1): for each, predict requests to
   * {@code serving_default} and classify requests to {@code classify}.
   *
   * @param sizes batch sizes, each at least 1, without repeats
   * @return this builder
   */
  public B warmupBatchSizes(int... sizes) {
    List<Integer> list = new ArrayList<>();
    for (int b : sizes) {
      list.add(b);
    }
    this.warmupBatchSizes = List.copyOf(list);
    return self();
  }

  /**
   * The name of each class, in label order, carried into the export: the classify signature's {@code classes}
   * output, the manifest, and what {@code tfkd predict} and {@code Predictor} show (default: {@code "0"} to {@code
   * "K-1"}; an image folder's run uses its sub-folder names).
   *
   * @param names one non-empty name per class, or null for the default
   * @return this builder
   */
  public B classNames(List<String> names) {
    if (names != null) {
      for (String n : names) {
        if (n == null || n.isBlank() || n.contains("\n")) {
          throw new IllegalArgumentException("class names must be non-empty single lines, got '" + n + "'");
        }
      }
      if (new java.util.HashSet<>(names).size() != names.size()) {
        throw new IllegalArgumentException("class names must be distinct, got " + names);
      }
    }
    this.classNames = names == null ? null : List.copyOf(names);
    return self();
  }

  /**
   * Whether to publish a version whose signatures (inputs, outputs, dtypes, shapes) differ from the previous
   * version's of the same model name; by default such a run is refused before it trains.
   *
   * @param allow publish anyway
   * @return this builder
   */
  public B allowSignatureChange(boolean allow) {
    this.allowSignatureChange = allow;
    return self();
  }

  /**
   * Whether the export carries a {@code features} signature (the model's feature points: stem, stages, pooled,
   * logits), so it can teach feature losses from its own graph; off by default, leaving the serving signatures and
   * {@code saved_model.pb} as they are without it.
   *
   * @param features add the signature
   * @return this builder
   */
  public B exportFeatures(boolean features) {
    this.exportFeatures = features;
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

  /**
   * Replicates the training step (synchronous data parallelism): over several devices of this process ({@code
   * Replication.devices(n)}), or over a cluster's workers ({@code Replication.cluster(spec)}; this process is the
   * chief and worker 0's server must be running in it, see {@code dev.tfkd.cluster.TaskServer}). With the same
   * seed and batch size the result equals one device's up to float rounding. An mcmi teacher's fine-tuning phase
   * runs on one device.
   *
   * @param replication where the replicas run; {@code Replication.NONE} (the default) for one device
   * @return this builder
   */
  public B replication(dev.tfkd.training.Replication replication) {
    this.replication = Objects.requireNonNull(replication, "replication");
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
    if (!c.getOutput().getExportName().isEmpty()) {
      modelName(c.getOutput().getExportName());
    }
    allowSignatureChange(c.getOutput().getAllowSignatureChange());
    exportFeatures(c.getOutput().getExportFeatures());
    classNames(classNames(c.getData(), d.train()));
    var es = c.getEarlyStopping();
    if (es.getPatience() > 0) {
      earlyStopping(EarlyStopping.Metric.valueOf(es.getMetric().toUpperCase(Locale.ROOT)), es.getPatience(), es.getMinDelta());
    }
    if (c.hasCluster()) {
      replication(dev.tfkd.training.Replication.cluster(RunConfigs.cluster(c.getCluster())));
    } else if (c.getDevices() > 1) {
      replication(dev.tfkd.training.Replication.devices(c.getDevices()));
    }
    return config(c);
  }

  /**
   * The class names a configuration gives: the {@code data.class_names} file (one per line, blank lines at the
   * end ignored), else an image folder's sub-folder names, else null.
   */
  static List<String> classNames(dev.tfkd.config.DataConfig d, Dataset train) {
    String file = d.getClassNames();
    List<String> names;
    if (!file.isBlank()) {
      try {
        names = new ArrayList<>(java.nio.file.Files.readAllLines(Path.of(file), java.nio.charset.StandardCharsets.UTF_8));
      } catch (java.io.IOException e) {
        throw new dev.tfkd.config.ConfigException("{data.class_names} " + file + ": cannot read (" + e.getMessage() + ")");
      }
      while (!names.isEmpty() && names.get(names.size() - 1).isBlank()) {
        names.remove(names.size() - 1);
      }
      names.replaceAll(String::strip);
      if (names.size() != train.numClasses()) {
        throw new dev.tfkd.config.ConfigException(
            "{data.class_names} " + file + " has " + names.size() + " names; " + train.name() + " has "
                + train.numClasses() + " classes");
      }
      if (names.stream().anyMatch(String::isEmpty) || new java.util.HashSet<>(names).size() != names.size()) {
        throw new dev.tfkd.config.ConfigException(
            "{data.class_names} " + file + ": every line must hold a distinct, non-empty class name");
      }
      return names;
    }
    String format = d.getFormat().isBlank() ? null : d.getFormat();
    names = dev.tfkd.data.io.DataSources.classNames(d.getTrain(), format, dev.tfkd.data.io.DataSources.Split.TRAIN)
        .orElse(null);
    return names != null && names.size() == train.numClasses() ? names : null;
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
      if (replication.cluster() != null) {
        dev.tfkd.cluster.ClusterSpec spec = replication.cluster();
        b.getClusterBuilder().addJobBuilder().setName("ps").addAllTasks(spec.ps());
        b.getClusterBuilder().addJobBuilder().setName("worker").addAllTasks(spec.workers());
      } else if (replication.replicated()) {
        b.setDevices(replication.replicas());
      }
      own.accept(b);
      c = b.build();
    }
    if (exportFeatures != c.getOutput().getExportFeatures()) {
      // The lifecycle reads it from the configuration, which the run directory keeps for a resume.
      c = c.toBuilder().setOutput(c.getOutput().toBuilder().setExportFeatures(exportFeatures)).build();
    }
    if (warmupBatchSizes != null) {
      c = c.toBuilder().setOutput(c.getOutput().toBuilder().clearWarmupBatchSizes().addAllWarmupBatchSizes(warmupBatchSizes)).build();
      RunConfigs.warmupBatchSizes(c);
    }
    Path root = !export ? null : exportRoot != null ? exportRoot : RunDirectory.at(runDirectory).defaultExportRoot();
    return new RunSettings(
        c, runDirectory, resume, root, exportName != null ? exportName : defaultName, training.threads(),
        List.copyOf(listeners), earlyStopping, classNames, allowSignatureChange);
  }
}
