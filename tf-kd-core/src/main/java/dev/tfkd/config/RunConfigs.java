package dev.tfkd.config;

import com.google.protobuf.Descriptors;
import com.google.protobuf.TextFormat;
import com.google.protobuf.TextFormatParseInfoTree;
import com.google.protobuf.TextFormatParseLocation;
import dev.tfkd.cluster.ClusterSpec;
import dev.tfkd.data.Augmentation;
import dev.tfkd.io.AtomicFiles;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * Resolves a run's {@link RunConfig}: built-in defaults, then a config file in protobuf text format, then the
 * fields the command line sets, in that order, each overriding the one before. The result is validated and saved
 * with the run as {@value #FILE_NAME}; giving that file back to {@code --config} repeats the run.
 */
public final class RunConfigs {
  /** The name of the resolved configuration in a run directory. */
  public static final String FILE_NAME = "run_config.pbtxt";

  private RunConfigs() {}

  /** The defaults of {@code command} ({@code distill} or {@code train-teacher}). */
  public static RunConfig defaults(String command) {
    RunConfig.Builder b = RunConfig.newBuilder().setCommand(command).setModel("mlp");
    b.getDataBuilder().setValidationSplit(0f);
    b.getTrainingBuilder()
        .setEpochs(10)
        .setBatchSize(128)
        .setOptimizer(TrainingConfig.Optimizer.ADAM)
        .setLearningRate(1e-3f)
        .setMomentum(0.9f)
        .setWeightDecay(0f)
        .setSchedule(TrainingConfig.Schedule.CONSTANT)
        .setSeed(1)
        .setThreads(0);
    if (command.equals("distill")) {
      b.getDistillationBuilder().setDivergence("kl").setCeWeight(0.1f).setKdWeight(0.9f);
    }
    if (command.equals("train-teacher")) {
      // The teacher objectives' defaults: lambda 0.15 (the paper's few-shot value), its fine-tuning schedule.
      b.setModel("mlp:256,256");
      b.getDataBuilder().setTrain("gmm");
      b.getTeacherBuilder()
          .setObjective("mll")
          .setLambda(0.15f)
          .setCentroids("once")
          .setFinetuneEpochs(20)
          .setFinetuneLearningRate(0.05f)
          .setSmoothing(0.1f)
          .setExportName("");
    }
    b.getEarlyStoppingBuilder().setMetric("val_accuracy").setPatience(0).setMinDelta(0f);
    return b.build();
  }

  /**
   * Reads a config file in protobuf text format and merges it over {@code base}: every field the file sets
   * replaces the base's.
   *
   * @throws IllegalArgumentException naming the file, line and column of a syntax error or an unknown field
   */
  public static RunConfig mergeFile(RunConfig base, Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": no such config file");
    } catch (MalformedInputException e) {
      throw new IllegalArgumentException(file + ": not a text file (invalid UTF-8)");
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage());
    }
    RunConfig.Builder b = base.toBuilder();
    TextFormatParseInfoTree.Builder where = TextFormatParseInfoTree.builder();
    try {
      TextFormat.Parser.newBuilder().setParseInfoTreeBuilder(where).build().merge(text, b);
    } catch (TextFormat.ParseException e) {
      throw new IllegalArgumentException(file + ":" + e.getLine() + ":" + e.getColumn() + ": " + stripPosition(e.getMessage()));
    }
    // Text format lets a later value of a field silently replace an earlier one: in a config that is almost always
    // a mistake (two edits of the same setting), so it is refused, naming both places.
    refuseRepeats(file, RunConfig.getDescriptor(), where.build(), "");
    if (!b.getCommand().equals(base.getCommand())) {
      throw new IllegalArgumentException(
          file + ": a config for '" + b.getCommand() + "', not for '" + base.getCommand() + "'");
    }
    return b.build();
  }

  private static void refuseRepeats(Path file, Descriptors.Descriptor type, TextFormatParseInfoTree tree, String prefix) {
    for (Descriptors.FieldDescriptor field : type.getFields()) {
      if (field.isRepeated()) {
        continue;
      }
      boolean message = field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE;
      List<TextFormatParseLocation> at = message ? List.of() : tree.getLocations(field);
      List<TextFormatParseInfoTree> nested = message ? tree.getNestedTrees(field) : List.of();
      if (at.size() > 1) {
        throw new IllegalArgumentException(
            file + ":" + (at.get(1).getLine() + 1) + ": " + prefix + field.getName() + " is given twice, on lines "
                + (at.get(0).getLine() + 1) + " and " + (at.get(1).getLine() + 1) + " (a config sets each field once)");
      }
      if (nested.size() > 1) {
        throw new IllegalArgumentException(
            file + ": " + prefix + field.getName() + " { ... } is given " + nested.size() + " times"
                + firstLines(field, tree, nested) + " (write its fields in one block)");
      }
      if (nested.size() == 1) {
        refuseRepeats(file, field.getMessageType(), nested.get(0), prefix + field.getName() + ".");
      }
    }
  }

  /** ", on lines a and b": where each block starts (its own location, else its first field's), when known. */
  private static String firstLines(Descriptors.FieldDescriptor field, TextFormatParseInfoTree parent, List<TextFormatParseInfoTree> blocks) {
    List<TextFormatParseLocation> own = parent.getLocations(field);
    List<String> lines = new java.util.ArrayList<>();
    for (int i = 0; i < blocks.size(); i++) {
      int line = own.size() == blocks.size() ? own.get(i).getLine() : firstLine(field.getMessageType(), blocks.get(i));
      if (line != Integer.MAX_VALUE) {
        lines.add(Integer.toString(line + 1));
      }
    }
    return lines.size() == blocks.size() ? ", on lines " + String.join(" and ", lines) : "";
  }

  private static int firstLine(Descriptors.Descriptor type, TextFormatParseInfoTree t) {
    int min = Integer.MAX_VALUE;
    for (Descriptors.FieldDescriptor f : type.getFields()) {
      if (f.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE) {
        for (TextFormatParseInfoTree n : t.getNestedTrees(f)) {
          min = Math.min(min, firstLine(f.getMessageType(), n));
        }
      } else {
        for (TextFormatParseLocation l : t.getLocations(f)) {
          min = Math.min(min, l.getLine());
        }
      }
    }
    return min;
  }

  private static String stripPosition(String message) {
    // ParseException messages start with "line:column: ".
    return message.replaceFirst("^\\d+:\\d+: ", "");
  }

  /**
   * Checks that {@code c} describes a run that can start; throws a {@link ConfigException} naming the field (the
   * command line shows it as its flag).
   */
  public static RunConfig validate(RunConfig c) {
    require(!c.getData().getTrain().isBlank(), "{data.train} is required");
    float split = c.getData().getValidationSplit();
    require(split >= 0 && split < 1, "{data.validation_split} must be in [0, 1), got " + split);
    require(
        c.getData().getTest().isBlank() || split == 0,
        "give either {data.test} or {data.validation_split}, not both");
    var data = c.getData();
    require(data.getClasses() >= 0, "{data.classes} must be >= 0, got " + data.getClasses());
    require(data.getShuffleBuffer() >= 0, "{data.shuffle_buffer} must be >= 0, got " + data.getShuffleBuffer());
    require(data.getStepsPerEpoch() >= 0, "{data.steps_per_epoch} must be >= 0, got " + data.getStepsPerEpoch());
    require(
        data.getParserThreads() >= 0 && data.getParserThreads() <= 64,
        "{data.parser_threads} must be in [0, 64], got " + data.getParserThreads());
    require(!c.getModel().isBlank(), "{model} is required");
    require(!c.getOutput().getRunDir().isBlank(), "{output.run_dir} is required");
    warmupBatchSizes(c);
    require(
        c.getOutput().getExportName().isEmpty() || c.getOutput().getExportName().matches("[A-Za-z0-9._-]+"),
        "{output.export_name} may hold only letters, digits, '.', '_' and '-', got '" + c.getOutput().getExportName()
            + "'");
    try {
      dev.tfkd.training.SessionSettings.checkThreads("{training.threads}", c.getTraining().getThreads());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    trainConfig(c);
    require(c.getDevices() >= 0 && c.getDevices() <= 64, "{devices} must be in [0, 64], got " + c.getDevices());
    if (c.hasCluster()) {
      try {
        cluster(c.getCluster());
      } catch (IllegalArgumentException e) {
        throw new ConfigException("{cluster}: " + e.getMessage());
      }
      require(c.getDevices() <= 1, "give either {cluster} or {devices}, not both");
    }
    if (c.getCommand().equals("distill")) {
      DistillationConfig d = c.getDistillation();
      require(
          !d.getTeacher().isBlank() || d.getTeachersCount() > 0,
          "{distillation.teacher} is required");
      require(
          d.getTeacher().isBlank() || d.getTeachersCount() == 0,
          "give either one {distillation.teacher} or several {distillation.teachers}, not both");
      require(!d.getDivergence().isBlank(), "{distillation.divergence} is required");
      require(
          d.getTermCount() == 0
              || (d.getDivergence().equals("kl") && d.getCeWeight() == 0.1f && d.getKdWeight() == 0.9f),
          "{distillation.term} replaces {distillation.divergence}, {distillation.ce_weight} and"
              + " {distillation.kd_weight}: give one or the other");
      lossSpec(d);
      teacherOutputKind(d);
      try {
        dev.tfkd.teacher.InputPreprocess.parse(d.getTeacherPreprocess());
      } catch (IllegalArgumentException e) {
        throw new ConfigException("{distillation.teacher_preprocess}: " + e.getMessage());
      }
      validateTeachers(d);
    }
    if (c.getCommand().equals("train-teacher")) {
      TeacherConfig t = c.getTeacher();
      dev.tfkd.objectives.TeacherObjectives.Kind.parse(t.getObjective());
      dev.tfkd.objectives.CentroidPolicy.parse(t.getCentroids());
      require(t.getFinetuneEpochs() >= 1, "{teacher.finetune_epochs} must be >= 1, got " + t.getFinetuneEpochs());
      require(
          t.getFinetuneLearningRate() > 0 && Float.isFinite(t.getFinetuneLearningRate()),
          "{teacher.finetune_learning_rate} must be > 0, got " + t.getFinetuneLearningRate());
      require(t.getLambda() >= 0 && Float.isFinite(t.getLambda()), "{teacher.lambda} must be finite and >= 0, got " + t.getLambda());
      require(t.getSmoothing() >= 0 && t.getSmoothing() < 1, "{teacher.smoothing} must be in [0, 1), got " + t.getSmoothing());
      require(
          t.getExportName().isEmpty() || t.getExportName().matches("[A-Za-z0-9._-]+"),
          "{teacher.export_name} may hold only letters, digits, '.', '_' and '-', got '" + t.getExportName() + "'");
    }
    EarlyStoppingConfig es = c.getEarlyStopping();
    require(es.getPatience() >= 0, "{early_stopping.patience} must be >= 0, got " + es.getPatience());
    require(
        es.getMetric().equals("val_accuracy") || es.getMetric().equals("val_loss"),
        "{early_stopping.metric} must be val_accuracy or val_loss, got '" + es.getMetric() + "'");
    require(es.getMinDelta() >= 0, "{early_stopping.min_delta} must be >= 0, got " + es.getMinDelta());
    require(
        es.getPatience() == 0 || !c.getData().getTest().isBlank() || split > 0,
        "{early_stopping.patience} needs validation data: give {data.test} or {data.validation_split}");
    return c;
  }

  /**
   * The configuration's loss terms as a {@link dev.tfkd.features.LossSpec}, or null when it has none (then divergence and weights
   * say the loss).
   *
   * @param dc the distillation section
   * @return the loss or null
   * @throws ConfigException naming the term field for a bad term
   */
  public static dev.tfkd.features.LossSpec lossSpec(DistillationConfig dc) {
    if (dc.getTermCount() == 0) {
      return null;
    }
    java.util.List<dev.tfkd.features.LossSpec.Term> terms = new java.util.ArrayList<>();
    try {
      for (LossTerm t : dc.getTermList()) {
        terms.add(dev.tfkd.features.LossSpec.term(t.getSpec(), t.hasWeight() ? t.getWeight() : null));
      }
      return new dev.tfkd.features.LossSpec(terms);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("{distillation.term}: " + e.getMessage());
    }
  }

  /** The trainer's settings of {@code c}; throws IllegalArgumentException for out-of-range values. */
  public static TrainConfig trainConfig(RunConfig c) {
    TrainingConfig t = c.getTraining();
    OptimizerConfig opt =
        new OptimizerConfig(
            switch (t.getOptimizer()) {
              case ADAM -> OptimizerConfig.Kind.ADAM;
              case SGD -> OptimizerConfig.Kind.SGD;
              default -> throw new IllegalArgumentException("training.optimizer: unknown value " + t.getOptimizerValue());
            },
            t.getLearningRate(),
            t.getOptimizer() == TrainingConfig.Optimizer.SGD ? t.getMomentum() : 0f,
            t.getWeightDecay(),
            switch (t.getSchedule()) {
              case CONSTANT -> OptimizerConfig.Schedule.CONSTANT;
              case COSINE -> OptimizerConfig.Schedule.COSINE;
              default -> throw new IllegalArgumentException("training.schedule: unknown value " + t.getScheduleValue());
            });
    Augmentation augmentation;
    try {
      augmentation = Augmentation.parse(t.getAugmentList());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("training.augment: " + e.getMessage(), e);
    }
    return new TrainConfig(t.getEpochs(), t.getBatchSize(), opt, t.getSeed(), t.getThreads(), augmentation);
  }

  /** The text form of {@code c}, as saved with a run. */
  public static String toText(RunConfig c) {
    return "# tf-kd resolved run configuration (protobuf text format, tfkd.RunConfig).\n"
        + "# Repeat the run with: tfkd " + c.getCommand() + " --config <this file>\n"
        + TextFormat.printer().printToString(c);
  }

  /** Saves {@code c} as {@value #FILE_NAME} in {@code runDir}, atomically. */
  public static Path save(RunConfig c, Path runDir) throws IOException {
    Path file = runDir.resolve(FILE_NAME);
    AtomicFiles.writeString(file, toText(c));
    return file;
  }

  /** Parses an enum value given on the command line, case-insensitively. */
  public static TrainingConfig.Optimizer optimizer(String name) {
    try {
      return TrainingConfig.Optimizer.valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown optimizer '" + name + "'; known: adam, sgd");
    }
  }

  /** Parses a schedule name given on the command line, case-insensitively. */
  public static TrainingConfig.Schedule schedule(String name) {
    try {
      return TrainingConfig.Schedule.valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown schedule '" + name + "'; known: constant, cosine");
    }
  }

  /**
   * The teacher's output kind of {@code d}: {@code teacher_output_kind}, {@code AUTO} when empty.
   *
   * @throws IllegalArgumentException naming the field and the kinds when it names none
   */
  public static dev.tfkd.export.OutputKind teacherOutputKind(DistillationConfig d) {
    String kind = d.getTeacherOutputKind();
    if (kind.isEmpty()) {
      return dev.tfkd.export.OutputKind.AUTO;
    }
    for (dev.tfkd.export.OutputKind k : dev.tfkd.export.OutputKind.values()) {
      if (k.name().equals(kind)) {
        return k;
      }
    }
    throw new ConfigException(
        "{distillation.teacher_output_kind} must be one of "
            + java.util.Arrays.toString(dev.tfkd.export.OutputKind.values()) + ", got '" + kind + "'");
  }

  /**
   * The output kind of one of several teachers: its section's {@code output_kind}, else the distillation's {@code
   * teacher_output_kind}, {@code AUTO} when both are empty.
   *
   * @throws IllegalArgumentException naming the field and the kinds when it names none
   */
  public static dev.tfkd.export.OutputKind teacherOutputKind(DistillationConfig d, DistillationTeacher t) {
    return t.getOutputKind().isEmpty()
        ? teacherOutputKind(d)
        : teacherOutputKind(d.toBuilder().setTeacherOutputKind(t.getOutputKind()).build());
  }

  /**
   * How several teachers combine: {@code teacher_combination}, {@code mean-loss} when empty.
   *
   * @throws IllegalArgumentException naming the field and the modes when it names none
   */
  public static dev.tfkd.training.TeacherCombination.Mode teacherCombination(DistillationConfig d) {
    if (d.getTeacherCombination().isEmpty()) {
      return dev.tfkd.training.TeacherCombination.Mode.MEAN_LOSS;
    }
    try {
      return dev.tfkd.training.TeacherCombination.Mode.parse(d.getTeacherCombination());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("{distillation.teacher_combination}: " + e.getMessage());
    }
  }

  /** The checks of several teachers' sections and their combination. */
  private static void validateTeachers(DistillationConfig d) {
    dev.tfkd.training.TeacherCombination.Mode mode = teacherCombination(d);
    boolean weighted = mode == dev.tfkd.training.TeacherCombination.Mode.WEIGHTED;
    require(
        !weighted || d.getTeachersCount() > 0,
        "{distillation.teacher_combination} weighted needs {distillation.teachers} sections with their weights");
    double sum = 0;
    for (int i = 0; i < d.getTeachersCount(); i++) {
      DistillationTeacher t = d.getTeachers(i);
      String which = "teacher " + (i + 1) + " of {distillation.teachers}";
      require(!t.getPath().isBlank(), which + " has no path");
      try {
        teacherOutputKind(d, t);
        dev.tfkd.teacher.InputPreprocess.parse(t.getPreprocess());
      } catch (IllegalArgumentException e) {
        throw new ConfigException(which + ": " + e.getMessage());
      }
      float w = t.getWeight();
      require(w >= 0 && Float.isFinite(w), "{distillation.teachers.weight} must be finite and >= 0, got " + w + " for " + which);
      require(
          weighted || !t.hasWeight(),
          "{distillation.teachers.weight} applies to the weighted {distillation.teacher_combination} only");
      sum += w;
    }
    require(!weighted || sum > 0, "{distillation.teachers.weight}: weighted teachers need weights, not all 0");
  }

  /** Warm-up requests per signature and batch size in an export. */
  public static final int WARMUP_REQUESTS = 10;

  /**
   * The batch sizes of the export's warm-up requests: {@code output.warmup_batch_sizes}, or {@code [1]} when none
   * are given; each at least 1, no repeats, and few enough that the records stay within TensorFlow Serving's limit.
   */
  public static java.util.List<Integer> warmupBatchSizes(RunConfig c) {
    java.util.List<Integer> sizes = c.getOutput().getWarmupBatchSizesList();
    if (sizes.isEmpty()) {
      return java.util.List.of(1);
    }
    for (int b : sizes) {
      require(b >= 1 && b <= 65536, "{output.warmup_batch_sizes} must be in [1, 65536], got " + b);
    }
    require(sizes.stream().distinct().count() == sizes.size(), "{output.warmup_batch_sizes} repeat: " + sizes);
    int max = dev.tfkd.export.WarmupRecords.MAX_RECORDS / (2 * WARMUP_REQUESTS);
    require(sizes.size() <= max, "{output.warmup_batch_sizes}: at most " + max + " sizes (TensorFlow Serving reads at"
        + " most " + dev.tfkd.export.WarmupRecords.MAX_RECORDS + " warm-up records), got " + sizes.size());
    return java.util.List.copyOf(sizes);
  }

  /** Throws a {@link ConfigException} with {@code template} (fields in braces) unless {@code ok}. */
  /**
   * The cluster a configuration's {@code cluster} block describes.
   *
   * @param c the block
   * @return the cluster
   * @throws IllegalArgumentException for an unknown or repeated job, a missing ps or worker job, or a bad address
   */
  public static ClusterSpec cluster(ClusterConfig c) {
    Map<String, List<String>> jobs = new LinkedHashMap<>();
    for (ClusterJob j : c.getJobList()) {
      if (jobs.put(j.getName(), j.getTasksList()) != null) {
        throw new IllegalArgumentException("job \"" + j.getName() + "\" is given twice");
      }
    }
    return ClusterSpec.of(jobs);
  }

  /**
   * Reads a cluster file: a {@code tfkd.ClusterConfig} in text format ({@code job { name: "ps" tasks:
   * "10.0.0.1:2222" } job { name: "worker" tasks: "10.0.0.2:2222" tasks: "10.0.0.3:2222" }}), or a run
   * configuration with a {@code cluster { ... }} block.
   *
   * @param file the file
   * @return the block
   * @throws IllegalArgumentException naming the file (and line) when it cannot be read or parsed
   */
  public static ClusterConfig readCluster(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": no such cluster file");
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage());
    }
    ClusterConfig.Builder b = ClusterConfig.newBuilder();
    try {
      TextFormat.merge(text, b);
    } catch (TextFormat.ParseException e) {
      RunConfig.Builder run = RunConfig.newBuilder();
      try {
        TextFormat.merge(text, run);
      } catch (TextFormat.ParseException ignored) {
        throw new IllegalArgumentException(file + ":" + e.getLine() + ":" + e.getColumn() + ": " + stripPosition(e.getMessage()));
      }
      if (!run.hasCluster()) {
        throw new IllegalArgumentException(file + ": a run configuration without a cluster block");
      }
      b = run.getClusterBuilder();
    }
    if (b.getJobCount() == 0) {
      throw new IllegalArgumentException(file + ": no jobs (expected job { name: \"ps\" tasks: \"host:port\" } ...)");
    }
    try {
      cluster(b.build());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage());
    }
    return b.build();
  }

  private static void require(boolean ok, String template) {
    if (!ok) {
      throw new ConfigException(template);
    }
  }
}
