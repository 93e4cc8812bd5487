package dev.tfkd.cli;

import dev.tfkd.config.RunConfig;
import dev.tfkd.config.RunConfigs;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import picocli.CommandLine.Option;

/**
 * The options every training command shares (a picocli mixin): the config file, data, model, training settings,
 * outputs, early stopping, resume. A flag given on the command line overrides the config file's field; a flag not
 * given leaves it alone (so the boxed fields are {@code null} when absent).
 */
final class RunOptions {
  @Option(names = "--config", paramLabel = "FILE", description = "Run configuration in protobuf text format (tfkd.RunConfig); flags override its fields.")
  Path config;

  @Option(names = "--resume", paramLabel = "RUN_DIR", description = "Continue the run in RUN_DIR from its latest checkpoint, with its saved configuration.")
  Path resume;

  @Option(names = "--train", paramLabel = "DATA", description = "Training data: a file or a built-in name (gmm; train-teacher's default).")
  String train;

  @Option(names = "--test", paramLabel = "DATA", description = "Test data, also used for validation after each epoch.")
  String test;

  @Option(names = "--validation-split", paramLabel = "F", description = "Hold out this fraction of the training data for validation instead of --test.")
  Float validationSplit;

  @Option(names = "--format", description = "Data file format (default: detected from the file).")
  String format;

  @Option(names = "--model", paramLabel = "SPEC", description = "Model spec, see 'tfkd models' (default: mlp; for train-teacher mlp:256,256).")
  String model;

  @Option(names = "--epochs", description = "Passes over the training data (default: 10).")
  Integer epochs;

  @Option(names = "--batch-size", description = "Examples per step (default: 128).")
  Integer batchSize;

  @Option(names = "--optimizer", description = "adam or sgd (default: adam).")
  String optimizer;

  @Option(names = {"--learning-rate", "--lr"}, description = "Base learning rate (default: 0.001).")
  Float learningRate;

  @Option(names = "--momentum", description = "SGD momentum (default: 0.9).")
  Float momentum;

  @Option(names = "--weight-decay", description = "L2 coefficient added to gradients (default: 0).")
  Float weightDecay;

  @Option(names = "--schedule", description = "constant or cosine (default: constant).")
  String schedule;

  @Option(names = "--seed", description = "The one seed for weights, split and data order (default: 1).")
  Long seed;

  @Option(names = "--threads", description = "TensorFlow threads, 0 to 256; 0 = all cores, 1 = bit-reproducible (default: 0).")
  Integer threads;

  @Option(
      names = "--augment",
      paramLabel = "LIST",
      split = ",",
      description = "Augment every training batch: crop (pad 4, random crop), crop:N (pad N), flip; e.g. crop,flip"
          + " (image data; train-teacher only; default: none).")
  java.util.List<String> augment;

  @Option(names = "--run-dir", paramLabel = "DIR", description = "Where the run's checkpoints, logs, report and config go (default: runs/COMMAND-TIME).")
  Path runDir;

  @Option(names = "--export-dir", paramLabel = "DIR", description = "Export root for the trained SavedModel (default: RUN_DIR/export).")
  Path exportDir;

  @Option(
      names = "--warmup-batch-sizes",
      paramLabel = "LIST",
      split = ",",
      description = "Batch sizes of the export's TensorFlow Serving warm-up requests (predict and classify), e.g. 1,8,32 (default: 1).")
  java.util.List<Integer> warmupBatchSizes;
  @Option(names = "--class-names", paramLabel = "FILE", description = "A text file with one class name per line, in label order, carried into the export: the classify signature's classes, the manifest, tfkd predict (default: an image folder's sub-folder names, else 0..K-1).")
  Path classNames;

  @Option(names = "--force", description = "Publish the export even if its signatures (inputs, outputs, dtypes, shapes) differ from the previous version's of the same model name; without it such a run is refused before it trains.")
  Boolean force;

  @Option(names = "--export-features", description = "Add a 'features' signature to the export: the model's feature points (stem, stageN_pre, stageN, pooled, logits; see 'tfkd models --features MODEL') by name, so the export can teach feature losses from its own graph. Off by default: the serving signatures are unchanged.")
  Boolean exportFeatures;

  @Option(names = "--early-stopping", paramLabel = "PATIENCE", description = "Stop after PATIENCE epochs without validation improvement (default: 0 = off).")
  Integer patience;

  @Option(names = "--early-stopping-metric", paramLabel = "METRIC", description = "val_accuracy or val_loss (default: val_accuracy).")
  String stoppingMetric;

  @Option(names = "--json", description = "Print the results as one JSON object on stdout.")
  boolean json;

  @Option(
      names = "--cluster",
      paramLabel = "FILE",
      description = "Train on TensorFlow's distributed runtime as the chief (worker 0) of the cluster in FILE"
          + " (job { name: \"ps\" tasks: \"host:port\" } job { name: \"worker\" tasks: ... }); start the other"
          + " tasks with 'tfkd task'.")
  Path cluster;

  @Option(names = "--devices", paramLabel = "N", description = "Replicate the model over N CPU devices of this process, gradients averaged (default: 1).")
  Integer devices;

  @Option(names = "--allow-public-network", description = "Start cluster tasks even on addresses outside loopback and private networks (the gRPC port has no TLS or authentication).")
  boolean allowPublicNetwork;

  @Option(names = "--stream", description = "Read the training data (TFRecord, IDX, CIFAR or CSV files) as a stream, not into memory (implied by a glob such as 'data/train-*.tfrecord' and by files larger than --stream-above-mb).")
  Boolean stream;

  @Option(names = "--stream-above-mb", paramLabel = "MB", description = "Stream training data whose files hold more than MB MiB (default: an eighth of the Java heap; gzip-compressed IDX is read into memory).")
  Integer streamAboveMb;

  @Option(names = "--classes", description = "Streamed data: the class count (default: the largest label of the first records of each shard + 1).")
  Integer classes;

  @Option(names = "--shuffle-buffer", paramLabel = "N", description = "Streamed data: records in the shuffle buffer (default: 8192).")
  Integer shuffleBuffer;

  @Option(names = "--steps-per-epoch", paramLabel = "N", description = "Streamed data: steps per epoch, each epoch checkpointed (default: 0 = one pass over the data).")
  Integer stepsPerEpoch;

  @Option(names = "--parser-threads", paramLabel = "N", description = "Streamed data: threads parsing records (default: 2).")
  Integer parserThreads;

  @Option(names = "--logit-cache", paramLabel = "DIR", description = "On-disk teacher-logit cache for streamed data or logits too large for memory (default: RUN_DIR/teacher-logits).")
  Path logitCache;

  /** Whether any option other than --resume, --json and --threads sets a field of the run. */
  boolean setsRunFields() {
    return config != null || train != null || test != null || validationSplit != null || format != null
        || model != null || epochs != null || batchSize != null || optimizer != null || learningRate != null
        || momentum != null || weightDecay != null || schedule != null || seed != null || augment != null || runDir != null
        || exportDir != null || warmupBatchSizes != null || classNames != null || force != null || exportFeatures != null || patience != null || stoppingMetric != null || cluster != null || devices != null
        || stream != null || classes != null || shuffleBuffer != null || stepsPerEpoch != null || parserThreads != null
        || logitCache != null || streamAboveMb != null;
  }

  /**
   * The run the options describe: with {@code --resume}, the saved run (no other run flags allowed); otherwise the
   * defaults, the config file and the flags, validated, in a directory that holds no run yet.
   *
   * @param commandFlags applies the command's own flags to the configuration
   * @param commandFlagsGiven whether any of the command's own flags was given
   */
  RunConfig resolveRun(String command, java.util.function.Consumer<RunConfig.Builder> commandFlags, boolean commandFlagsGiven) {
    if (resume != null) {
      if (setsRunFields() || commandFlagsGiven || threads != null) {
        throw new IllegalArgumentException(
            "--resume continues a run with its saved configuration; give no other run options with it");
      }
      return dev.tfkd.run.RunDirectory.at(resume).loadConfig(RunConfigs.defaults(command));
    }
    RunConfig.Builder b = resolve(command);
    commandFlags.accept(b);
    RunConfig c = RunConfigs.validate(b.build());
    dev.tfkd.run.RunDirectory.at(Path.of(c.getOutput().getRunDir())).requireNew();
    return c;
  }

  /**
   * For a run on a cluster, starts this process's own task (worker 0, the chief) and prints the task's network
   * warning on {@code err}; does nothing for a run in one process.
   */
  void startChief(RunConfig c, java.io.PrintWriter err) {
    if (!c.hasCluster()) {
      return;
    }
    dev.tfkd.cluster.ClusterSpec spec = RunConfigs.cluster(c.getCluster());
    err.println(
        "tfkd: warning: " + dev.tfkd.cluster.TaskServer.start(
            spec, dev.tfkd.cluster.ClusterSpec.WORKER, 0, allowPublicNetwork,
            dev.tfkd.training.SessionSettings.ofThreads(c.getTraining().getThreads()).toConfigProto()));
    err.flush();
  }

  /** The command-line flag of a configuration field named in a core message ({@code data.test} is {@code --test}). */
  static String flag(String field) {
    return switch (field) {
      case "resume" -> "--resume";
      case "model" -> "--model";
      case "data.train" -> "--train";
      case "data.test" -> "--test";
      case "data.validation_split" -> "--validation-split";
      case "data.format" -> "--format";
      case "output.run_dir" -> "--run-dir";
      case "output.export_dir" -> "--export-dir";
      case "output.warmup_batch_sizes" -> "--warmup-batch-sizes";
      case "early_stopping.patience" -> "--early-stopping";
      case "early_stopping.metric" -> "--early-stopping-metric";
      case "training.learning_rate" -> "--learning-rate";
      case "teacher.finetune_learning_rate" -> "--finetune-lr";
      case "teacher.export_name", "output.export_name" -> "--name";
      case "output.allow_signature_change" -> "--force";
      case "output.export_features" -> "--export-features";
      case "distillation.teacher_feature" -> "--teacher-feature";
      case "distillation.teachers" -> "--teacher";
      case "distillation.teachers.weight" -> "--teacher-weight";
      case "distillation.term" -> "--loss";
      // Fields without a flag keep their configuration name.
      case "early_stopping.min_delta" -> field;
      default -> {
        int dot = field.lastIndexOf('.');
        yield "--" + field.substring(dot + 1).replace('_', '-');
      }
    };
  }

  /** Defaults, then the config file, then the flags given. */
  RunConfig.Builder resolve(String command) {
    RunConfig base = RunConfigs.defaults(command);
    if (config != null) {
      base = RunConfigs.mergeFile(base, config);
    }
    RunConfig.Builder b = base.toBuilder();
    if (train != null) {
      b.getDataBuilder().setTrain(train);
    }
    if (test != null) {
      b.getDataBuilder().setTest(test);
    }
    if (validationSplit != null) {
      b.getDataBuilder().setValidationSplit(validationSplit);
    }
    if (format != null) {
      b.getDataBuilder().setFormat(format);
    }
    var d = b.getDataBuilder();
    if (stream != null) {
      d.setStream(stream);
    }
    if (streamAboveMb != null) {
      d.setStreamAboveMb(streamAboveMb);
    }
    if (classes != null) {
      d.setClasses(classes);
    }
    if (shuffleBuffer != null) {
      d.setShuffleBuffer(shuffleBuffer);
    }
    if (stepsPerEpoch != null) {
      d.setStepsPerEpoch(stepsPerEpoch);
    }
    if (parserThreads != null) {
      d.setParserThreads(parserThreads);
    }
    if (logitCache != null) {
      d.setLogitCache(logitCache.toString());
    }
    if (model != null) {
      b.setModel(model);
    }
    var t = b.getTrainingBuilder();
    if (epochs != null) {
      t.setEpochs(epochs);
    }
    if (batchSize != null) {
      t.setBatchSize(batchSize);
    }
    if (optimizer != null) {
      t.setOptimizer(RunConfigs.optimizer(optimizer));
    }
    if (learningRate != null) {
      t.setLearningRate(learningRate);
    }
    if (momentum != null) {
      t.setMomentum(momentum);
    }
    if (weightDecay != null) {
      t.setWeightDecay(weightDecay);
    }
    if (schedule != null) {
      t.setSchedule(RunConfigs.schedule(schedule));
    }
    if (seed != null) {
      t.setSeed(seed);
    }
    if (threads != null) {
      t.setThreads(dev.tfkd.training.SessionSettings.checkThreads("--threads", threads));
    }
    if (augment != null) {
      t.clearAugment().addAllAugment(augment);
    }
    if (runDir != null) {
      b.getOutputBuilder().setRunDir(runDir.toString());
    } else if (b.getOutput().getRunDir().isBlank()) {
      String time = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
      b.getOutputBuilder().setRunDir(Path.of("runs", command + "-" + time).toString());
    }
    if (exportDir != null) {
      b.getOutputBuilder().setExportDir(exportDir.toString());
    }
    if (warmupBatchSizes != null) {
      b.getOutputBuilder().clearWarmupBatchSizes().addAllWarmupBatchSizes(warmupBatchSizes);
    }
    if (classNames != null) {
      b.getDataBuilder().setClassNames(classNames.toString());
    }
    if (force != null) {
      b.getOutputBuilder().setAllowSignatureChange(force);
    }
    if (exportFeatures != null) {
      b.getOutputBuilder().setExportFeatures(exportFeatures);
    }
    if (patience != null) {
      b.getEarlyStoppingBuilder().setPatience(patience);
    }
    if (cluster != null) {
      b.setCluster(RunConfigs.readCluster(cluster));
    }
    if (devices != null) {
      b.setDevices(devices);
    }
    if (stoppingMetric != null) {
      b.getEarlyStoppingBuilder().setMetric(stoppingMetric);
    }
    return b;
  }
}
