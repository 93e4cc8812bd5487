package dev.tfkd.cli;

import dev.tfkd.config.RunConfig;
import dev.tfkd.config.RunConfigs;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.io.AtomicFiles;
import dev.tfkd.io.Json;
import dev.tfkd.metrics.Calibration;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.training.checkpoint.Checkpoints;
import dev.tfkd.training.EarlyStopping;
import dev.tfkd.training.Objective;
import dev.tfkd.training.RunLogs;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingDivergedException;
import dev.tfkd.training.TrainingListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * What every training command shares: resolving the run configuration (defaults, config file, flags; or the saved
 * configuration of a run being resumed), loading the data, the run directory and its files, the listeners
 * (progress, JSON lines and TensorBoard logs, early stopping), checkpoints and resume, the final evaluation, the
 * SavedModel export, {@code results.json} and the report.
 *
 * <p>A run directory holds {@value RunConfigs#FILE_NAME}, {@code checkpoints/}, {@code metrics/},
 * {@code tensorboard/}, {@code results.json}, {@code report/} and (by default) {@code export/}.
 */
final class TrainingRun {
  private final RunConfig config;
  private final Path runDir;
  private final boolean resume;

  private TrainingRun(RunConfig config, Path runDir, boolean resume) {
    this.config = config;
    this.runDir = runDir;
    this.resume = resume;
  }

  RunConfig config() {
    return config;
  }

  Path runDir() {
    return runDir;
  }

  /**
   * The run the options describe: with {@code --resume}, the saved run (no other run flags allowed); otherwise the
   * defaults, the config file and the flags, validated.
   *
   * @param commandFlags applies the command's own flags to the configuration
   * @param commandFlagsGiven whether any of the command's own flags was given
   */
  static TrainingRun resolve(
      RunOptions o, String command, Consumer<RunConfig.Builder> commandFlags, boolean commandFlagsGiven) {
    if (o.resume != null) {
      if (o.setsRunFields() || commandFlagsGiven || o.threads != null) {
        throw new IllegalArgumentException(
            "--resume continues a run with its saved configuration; give no other run options with it");
      }
      Path file = o.resume.resolve(RunConfigs.FILE_NAME);
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException(o.resume + ": not a run directory (no " + RunConfigs.FILE_NAME + ")");
      }
      RunConfig saved = RunConfigs.validate(RunConfigs.mergeFile(RunConfigs.defaults(command), file));
      // The directory may have moved since: the run lives where --resume points.
      RunConfig c = saved.toBuilder().setOutput(saved.getOutput().toBuilder().setRunDir(o.resume.toString())).build();
      return new TrainingRun(c, o.resume, true);
    }
    RunConfig.Builder b = o.resolve(command);
    commandFlags.accept(b);
    RunConfig c = RunConfigs.validate(b.build());
    Path dir = Path.of(c.getOutput().getRunDir());
    if (Files.exists(dir.resolve(RunConfigs.FILE_NAME))) {
      throw new IllegalArgumentException(
          dir + ": already holds a run; continue it with --resume " + dir + ", or choose another --run-dir");
    }
    return new TrainingRun(c, dir, false);
  }

  TrainConfig trainConfig() {
    return RunConfigs.trainConfig(config);
  }

  /**
   * The data of a run.
   *
   * @param train what the model trains on
   * @param validation scored after every epoch (the test data, or the held-out split), or {@code null}
   * @param test what the final results are measured on (the test data, or the held-out split), or {@code null}
   */
  record Data(Dataset train, Dataset validation, Dataset test) {}

  private String teacherSource;
  private float[] teacherLogits;

  /** Records the teacher and the logits it gave the student, for the export's provenance manifest. */
  void recordTeacher(String source, float[] logits) {
    this.teacherSource = source;
    this.teacherLogits = logits;
  }

  /** The provenance manifest published inside the export's version directory. */
  private dev.tfkd.export.Manifest manifest(TrainedModel model, Data data, Scored scored) {
    dev.tfkd.export.Manifest m =
        new dev.tfkd.export.Manifest()
            .put("command", "tfkd " + config.getCommand())
            .put("parameters", model.trainableParameters())
            .put("seed", config.getTraining().getSeed())
            .put("configuration", com.google.protobuf.TextFormat.printer().printToString(config))
            .dataset("train", data.train());
    if (data.test() != null) {
      m.dataset("test", data.test());
    }
    if (teacherLogits != null) {
      m.teacher(teacherSource, teacherLogits);
    }
    if (scored != null) {
      m.evaluation("test", scored.evaluation());
    }
    return m;
  }

  Data loadData() {
    var d = config.getData();
    String format = d.getFormat().isBlank() ? null : d.getFormat();
    // DataSources.load refuses NaN and infinite features (DataChecks.requireFinite), naming example and feature.
    Dataset train = DataSources.load(d.getTrain(), format, DataSources.Split.TRAIN);
    if (!d.getTest().isBlank()) {
      Dataset test = DataSources.load(d.getTest(), format, DataSources.Split.TEST);
      if (test.numClasses() != train.numClasses() || !java.util.Arrays.equals(test.exampleShape(), train.exampleShape())) {
        throw new IllegalArgumentException(
            d.getTest() + ": " + test.numClasses() + " classes of shape " + java.util.Arrays.toString(test.exampleShape())
                + ", but the training data has " + train.numClasses() + " of shape "
                + java.util.Arrays.toString(train.exampleShape()));
      }
      return new Data(train, test, test);
    }
    if (d.getValidationSplit() > 0) {
      int n = train.size();
      int held = (int) Math.round(n * (double) d.getValidationSplit());
      if (held < 1 || held >= n) {
        throw new IllegalArgumentException(
            "--validation-split " + d.getValidationSplit() + " of " + n + " examples leaves " + held
                + " for validation and " + (n - held) + " for training");
      }
      int[] order = new int[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      SplittableRandom rng = new SplittableRandom(config.getTraining().getSeed() * 31 + 0x7A11D);
      for (int i = n - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      Dataset val = train.select(java.util.Arrays.copyOfRange(order, 0, held), train.name() + " (validation split)");
      Dataset rest = train.select(java.util.Arrays.copyOfRange(order, held, n), train.name() + " (training split)");
      return new Data(rest, val, val);
    }
    return new Data(train, null, null);
  }

  /**
   * Creates the run directory (checking that it can be written before any training) and saves the resolved
   * configuration. Nothing to do for a resumed run.
   */
  void start() throws IOException {
    if (resume) {
      return;
    }
    try {
      Files.createDirectories(runDir);
      Path probe = Files.createTempFile(runDir, ".probe-", ".tmp");
      Files.delete(probe);
    } catch (IOException e) {
      throw new IllegalArgumentException(runDir + ": cannot write the run directory (" + e.getMessage() + ")");
    }
    RunConfigs.save(config, runDir);
  }

  /**
   * Trains with checkpoints every epoch in {@code RUN_DIR/checkpoints}, logs, progress on {@code progressOut}
   * and early stopping if configured; resumes from the latest checkpoint of a resumed run.
   */
  TrainedModel train(
      Architecture architecture, Data data, Objective objective, float[] teacherLogits, PrintWriter progressOut,
      String label) throws IOException {
    TrainConfig tc = trainConfig();
    return train(
        runDir, architecture, tc.epochs(), data, progressOut, label,
        (listeners, options) ->
            new Trainer(tc, listeners).train(architecture, data.train(), objective, teacherLogits, options));
  }

  /** One training phase of a run, given its listeners and its checkpoint and validation options. */
  interface Phase {
    TrainedModel run(List<TrainingListener> listeners, Trainer.RunOptions options);
  }

  /**
   * Runs one phase of the run with checkpoints in {@code phaseDir/checkpoints}, logs in {@code phaseDir/metrics}
   * and {@code phaseDir/tensorboard}, progress on {@code progressOut} and early stopping if configured. In a
   * resumed run the phase continues from its latest checkpoint; a phase that had finished returns its final
   * checkpoint without training, and one that had not started starts from the beginning.
   *
   * @param phaseDir the run directory, or a directory inside it for a later phase
   * @param architecture the model the phase trains (for the disk-space check)
   * @param epochs the phase's epochs (for the progress display)
   * @param data the run's data; its validation part is scored after every epoch
   */
  TrainedModel train(
      Path phaseDir, Architecture architecture, int epochs, Data data, PrintWriter progressOut, String label,
      Phase phase) throws IOException {
    // Refused before the first step rather than when the disk fills halfway through.
    dev.tfkd.io.DiskSpace.require(
        phaseDir,
        dev.tfkd.io.DiskSpace.trainingRunBytes(dev.tfkd.models.Models.parameterCount(architecture)),
        "the checkpoints and export of " + architecture.name());
    Checkpoints checkpoints = new Checkpoints(phaseDir.resolve("checkpoints"));
    // A run killed before its first checkpoint starts again from the beginning.
    boolean fromCheckpoint = resume && checkpoints.latest().isPresent();
    try (RunLogs logs = new RunLogs(phaseDir)) {
      if (resume && !fromCheckpoint) {
        // Killed before its first checkpoint: whatever it logged is written again from the start.
        logs.onResume(List.of());
      }
      List<TrainingListener> listeners = new ArrayList<>();
      listeners.add(new Progress(progressOut, label, epochs, Progress.isTerminal(), 10));
      listeners.add(logs);
      var es = config.getEarlyStopping();
      if (es.getPatience() > 0) {
        listeners.add(
            new EarlyStopping(
                EarlyStopping.Metric.valueOf(es.getMetric().toUpperCase(Locale.ROOT)), es.getPatience(), es.getMinDelta()));
      }
      try {
        return phase.run(listeners, new Trainer.RunOptions(data.validation(), checkpoints, true, fromCheckpoint));
      } catch (TrainingDivergedException e) {
        String kept =
            checkpoints.latest().map(s -> "; the last good checkpoint is kept in " + s.prefix().getParent()).orElse("");
        throw new TrainingDivergedException(e.getMessage() + kept);
      }
    }
  }

  /** Final figures of one model on the test data. */
  record Scored(String name, Evaluation evaluation, Calibration.Reliability reliability, double[] perClass, long parameters) {
    static Scored of(String name, float[] logits, Dataset test, long parameters) {
      return new Scored(
          name, Metrics.evaluate(logits, test), Calibration.reliability(logits, test, 15),
          Calibration.perClassAccuracy(logits, test), parameters);
    }

    RunReport.Row row() {
      return new RunReport.Row(
          name, evaluation.examples(), evaluation.accuracy(), evaluation.nll(), reliability.ece(), parameters);
    }
  }

  /**
   * Scores the trained model, exports it as the next version of {@code EXPORT_ROOT/exportName}, writes
   * {@code results.json} and the report, and prints the results (a table, or one JSON object with {@code json}).
   *
   * @param others rows to show above the trained model (e.g. the teacher), scored on the same test data
   */
  int finish(
      TrainedModel model, Data data, String exportName, List<Scored> others, PrintWriter out, boolean json)
      throws IOException {
    return finish(
        model, data, exportName, others, out, json,
        new Extras(model.history(), config.getTraining().getEpochs(), null, null, null));
  }

  /** Done with the exported model while it is loaded: e.g. more figures written beside the export. */
  interface AfterExport {
    void accept(InferenceModel model, Path export, Scored scored) throws IOException;
  }

  /**
   * What a command adds to the end of a run.
   *
   * @param history the epochs to plot and count (e.g. of every phase of the run, numbered on)
   * @param plannedEpochs the epochs the run would have had without early stopping
   * @param cmi the teacher's conditional mutual information per epoch for the report, or null
   * @param afterExport run with the exported model, or null
   * @param note a line under the report's title (e.g. which epochs belong to which phase), or null
   */
  record Extras(
      List<TrainingListener.EpochMetrics> history, int plannedEpochs, double[] cmi, AfterExport afterExport, String note) {}

  /** As {@link #finish(TrainedModel, Data, String, List, PrintWriter, boolean)}, with {@code extras}. */
  int finish(
      TrainedModel model, Data data, String exportName, List<Scored> others, PrintWriter out, boolean json,
      Extras extras) throws IOException {
    Path exportRoot =
        config.getOutput().getExportDir().isBlank() ? runDir.resolve("export") : Path.of(config.getOutput().getExportDir());
    Scored scored = null;
    Path export;
    try (InferenceModel m = model.load(Trainer.sessionConfig(config.getTraining().getThreads()))) {
      if (data.test() != null) {
        scored = Scored.of(exportName, m.logits(data.test()), data.test(), model.trainableParameters());
      }
      Dataset warmup = data.test() != null ? data.test() : data.train();
      export =
          ServingExporter.exportNextVersion(
              m, exportRoot, exportName,
              dev.tfkd.export.ExportOptions.withManifest(manifest(model, data, scored)).withWarmup(warmup, 10, 1));
      if (extras.afterExport() != null) {
        extras.afterExport().accept(m, export, scored);
      }
    }
    List<Scored> all = new ArrayList<>(others);
    if (scored != null) {
      all.add(scored);
    }
    List<TrainingListener.EpochMetrics> h = extras.history();
    int planned = extras.plannedEpochs();
    Json.Members results =
        Json.object()
            .put("command", config.getCommand())
            .put("run_dir", runDir.toString())
            .put("model", model.architecture().name())
            .put("parameters", model.trainableParameters())
            .put("epochs", h.size())
            .put("stopped_early", h.size() < planned)
            .put("global_steps", h.isEmpty() ? 0 : h.get(h.size() - 1).globalStep())
            .put("export", export.toString());
    if (!h.isEmpty()) {
      TrainingListener.EpochMetrics last = h.get(h.size() - 1);
      results.put("final_loss_total", last.total()).put("final_loss_hard", last.hard())
          .put("final_loss_soft", last.soft()).put("final_train_accuracy", last.accuracy());
    }
    for (Scored s : all) {
      results.put(
          s.name(),
          Json.object()
              .put("examples", s.evaluation().examples())
              .put("accuracy", s.evaluation().accuracy())
              .put("nll", s.evaluation().nll())
              .put("ece", s.reliability().ece())
              .put("cmi", s.evaluation().cmi())
              .put("kl_to_posterior", s.evaluation().klToPosterior()));
    }
    Path reportDir = runDir.resolve("report");
    Path page =
        RunReport.write(
            reportDir,
            new RunReport.Inputs(
                config.getCommand() + ": " + model.architecture().name() + " (" + runDir.getFileName() + ")"
                    + (extras.note() == null ? "" : "; " + extras.note()),
                h,
                extras.cmi(),
                scored == null ? null : scored.reliability(),
                scored == null ? null : scored.perClass(),
                data.train().classCounts(),
                all.stream().map(Scored::row).toList(),
                RunConfigs.toText(config)));
    results.put("report", page.toString());
    String resultsJson = results.toString();
    AtomicFiles.writeString(runDir.resolve("results.json"), resultsJson + "\n");
    if (json) {
      out.println(resultsJson);
    } else {
      if (!all.isEmpty()) {
        out.println();
        printTable(out, all);
      }
      out.println();
      out.println("run:      " + runDir);
      out.println("export:   " + export);
      out.println("report:   " + page);
      out.println("repeat:   tfkd " + config.getCommand() + " --config " + runDir.resolve(RunConfigs.FILE_NAME) + " --run-dir NEW_DIR");
    }
    out.flush();
    return Errors.OK;
  }

  private static void printTable(PrintWriter o, List<Scored> rows) {
    o.println("| model | test examples | accuracy | NLL | ECE | parameters |");
    o.println("| :-- | --: | --: | --: | --: | --: |");
    for (Scored s : rows) {
      o.printf(
          Locale.ROOT, "| %s | %d | %.4f | %.4f | %.4f | %s |%n",
          s.name(), s.evaluation().examples(), s.evaluation().accuracy(), s.evaluation().nll(), s.reliability().ece(),
          s.parameters() < 0 ? "-" : Long.toString(s.parameters()));
    }
  }

}
