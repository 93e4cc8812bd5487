package dev.tfkd.run;

import dev.tfkd.config.ConfigException;
import dev.tfkd.config.RunConfig;
import dev.tfkd.config.RunConfigs;
import dev.tfkd.data.Dataset;
import dev.tfkd.export.ExportOptions;
import dev.tfkd.export.Manifest;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.ParameterCount;
import dev.tfkd.io.AtomicFiles;
import dev.tfkd.io.DiskSpace;
import dev.tfkd.training.MemoryEstimate;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.io.Json;
import dev.tfkd.training.checkpoint.Checkpoints;
import dev.tfkd.training.EarlyStopping;
import dev.tfkd.training.RunLogs;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingDivergedException;
import dev.tfkd.training.TrainingListener;
import dev.tfkd.training.TrainingListener.EpochMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What every run shares, in order: the checks before anything is written (export root, disk space), the run
 * directory, each phase with its checkpoints, logs, listeners, early stopping and resume, then the final scoring,
 * the export with its manifest and warm-up records (or the export a resumed run had already published),
 * {@code results.json} and the report.
 */
final class RunLifecycle {
  /** Warm-up requests per signature and batch size written with the export. */
  static final int WARMUP_EXAMPLES = RunConfigs.WARMUP_REQUESTS;

  private final RunSettings s;
  private final RunData data;
  private final RunDirectory dir;
  private String teacherSource;
  private String teacherOutput = "";
  private List<String> teacherUnsafeOps = List.of();
  private float[] teacherLogits;
  private String teacherDigest;
  private String runId;

  RunLifecycle(RunSettings settings, RunData data) {
    this.s = settings;
    this.data = data;
    this.dir = RunDirectory.at(settings.runDirectory());
  }

  RunDirectory directory() {
    return dir;
  }

  /** Records the teacher and the logits it gave the student, for the export's provenance manifest. */
  void recordTeacher(String source, String output, float[] logits) {
    recordTeacher(source, output, List.of(), logits);
  }

  /**
   * Records the teacher, the unsafe ops it was let run ({@link dev.tfkd.export.GraphSafety.Finding#describe()} each,
   * for {@code results.json} and the manifest) and the logits it gave the student.
   */
  void recordTeacher(String source, String output, List<String> unsafeOps, float[] logits) {
    this.teacherSource = source;
    this.teacherOutput = output;
    this.teacherUnsafeOps = List.copyOf(unsafeOps);
    this.teacherLogits = logits;
  }

  /** Records the teacher and the SHA-256 of the logits it gave the student (a table too large for memory). */
  void recordTeacher(String source, String output, List<String> unsafeOps, String logitsSha256) {
    this.teacherSource = source;
    this.teacherOutput = output;
    this.teacherUnsafeOps = List.copyOf(unsafeOps);
    this.teacherDigest = logitsSha256;
  }

  /**
   * Everything that can refuse the run before a file is written: a new run's directory must hold no run, the
   * export root must be a directory (or not exist yet), the machine must have the memory to train
   * {@code architecture} as {@code training} says ({@link MemoryEstimate}), and the disk must have room for
   * {@code phases} phases of it over {@code epochs} epochs.
   */
  void check(Architecture architecture, TrainConfig training, int phases, int epochs) throws IOException {
    if (!s.resume()) {
      dir.requireNew();
    } else if (!dir.holdsRun()) {
      throw new IllegalArgumentException(dir + ": not a run directory (no " + RunConfigs.FILE_NAME + "); nothing to resume");
    }
    Path blocking = fileInTheWay(dir.path());
    if (blocking != null) {
      throw new IllegalArgumentException(
          dir.path() + ": cannot write the run directory (" + blocking + " is a file, not a directory)");
    }
    if (s.exportRoot() != null) {
      // Found now rather than after the last epoch, when the export would fail.
      for (Path p : List.of(s.exportRoot(), s.exportRoot().resolve(s.exportName()))) {
        Path file = fileInTheWay(p);
        if (file != null) {
          throw new ConfigException(
              "{output.export_dir} " + p + ": " + (file.equals(p.toAbsolutePath()) ? "" : file + " ")
                  + "is a file, not a directory");
        }
      }
    }
    if (s.exportRoot() != null && !s.allowSignatureChange()) {
      // A version whose interface differs from the previous one's is refused now, not after training.
      try (InferenceModel m = InferenceModel.unrestored(architecture, inferenceOptions())) {
        ServingExporter.requireSameSignatures(
            s.exportRoot().resolve(s.exportName()), Long.MAX_VALUE,
            dev.tfkd.export.Signatures.defs(m, s.config().getOutput().getExportFeatures()));
      }
    }
    // A model larger than the machine ends in a native allocation abort minutes in: refused before anything is built.
    String model = s.config().getModel().isBlank() ? architecture.name() : s.config().getModel().strip();
    MemoryEstimate.of(architecture, training.batchSize(), training.optimizer())
        .requireFits(model, MemoryEstimate.availableMemory());
    long parameters = ParameterCount.of(architecture);
    long bytes =
        DiskSpace.trainingRunBytes(parameters, epochs, data.train().exampleSize(), warmupExamples(s.config()));
    // Refused before the first step rather than when the disk fills halfway through.
    DiskSpace.require(
        dir.path(), Math.multiplyExact(bytes, (long) phases), "the checkpoints and export of " + architecture.name());
  }

  /** The nearest existing path at or above {@code p} if it is not a directory (so {@code p} cannot be one), else null. */
  private static Path fileInTheWay(Path p) {
    Path existing = p.toAbsolutePath();
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    return existing != null && !Files.isDirectory(existing) ? existing : null;
  }

  /** Creates the run directory and saves the configuration; nothing to create for a resumed run. */
  void start() throws IOException {
    if (!s.resume()) {
      dir.create(s.config());
    }
    runId = dir.runId();
  }

  /** One training phase, given its listeners and its checkpoint and validation options. */
  interface Phase {
    TrainedModel run(List<TrainingListener> listeners, Trainer.RunOptions options);
  }

  /**
   * Runs one phase with checkpoints in {@code phaseDir/checkpoints}, logs in {@code phaseDir/metrics} and {@code
   * phaseDir/tensorboard}, the run's listeners and early stopping. In a resumed run the phase continues from its
   * latest checkpoint; a phase that had finished returns its final checkpoint without training, and one that had
   * not started starts from the beginning.
   */
  TrainedModel phase(Path phaseDir, String label, int epochs, Phase phase) throws IOException {
    Checkpoints checkpoints = new Checkpoints(phaseDir.resolve("checkpoints"));
    // A run killed before its first checkpoint starts again from the beginning.
    boolean fromCheckpoint = s.resume() && checkpoints.latest().isPresent();
    try (RunLogs logs = new RunLogs(phaseDir)) {
      if (s.resume() && !fromCheckpoint) {
        // Killed before its first checkpoint: whatever it logged is written again from the start.
        logs.onResume(List.of());
      }
      List<TrainingListener> listeners = new ArrayList<>();
      for (PhaseListener l : s.listeners()) {
        listeners.add(l.create(label, epochs));
      }
      listeners.add(logs);
      if (s.earlyStopping() != null) {
        var es = s.earlyStopping();
        listeners.add(new EarlyStopping(es.metric(), es.patience(), es.minDelta()));
      }
      try {
        return phase.run(listeners, new Trainer.RunOptions(data.validation(), checkpoints, true, fromCheckpoint));
      } catch (TrainingDivergedException e) {
        String kept =
            checkpoints.latest().map(c -> "; the last good checkpoint is kept in " + c.prefix().getParent()).orElse("");
        throw new TrainingDivergedException(e.getMessage() + kept);
      }
    }
  }

  /** How the trained model is rebuilt for scoring and export: no preprocessing, the run's class names. */
  private InferenceModel.Options inferenceOptions() {
    return new InferenceModel.Options(null, s.classNames());
  }

  /**
   * Done with the trained model while it is loaded, before it is exported: e.g. more figures, written into the
   * version directory with it.
   */
  interface BeforeExport {
    /**
     * @param scored the model's test figures, or null without test data
     * @param files where to put files for the version directory (path relative to it, content): they are
     *     published with the model, in the same rename
     * @return the model's CMI on its training data, if measured
     */
    OptionalDouble accept(InferenceModel model, ModelScore scored, java.util.Map<String, byte[]> files)
        throws IOException;
  }

  /**
   * What a run adds to its end.
   *
   * @param history the epochs to plot and count (of every phase of the run, numbered on)
   * @param plannedEpochs the epochs the run would have had without early stopping
   * @param phases the model at the end of each phase
   * @param cmi the teacher's conditional mutual information per epoch for the report, or null
   * @param beforeExport run with the trained model before it is exported, or null
   * @param note a line under the report's title (e.g. which epochs belong to which phase), or null
   */
  record Extras(
      List<EpochMetrics> history,
      int plannedEpochs,
      List<TrainedModel> phases,
      double[] cmi,
      BeforeExport beforeExport,
      String note) {}

  /** Examples in all warm-up records: predict and classify requests for every batch size. */
  static int warmupExamples(RunConfig c) {
    return 2 * WARMUP_EXAMPLES * RunConfigs.warmupBatchSizes(c).stream().mapToInt(Integer::intValue).sum();
  }

  /**
   * Scores the trained model, exports it as the next version of {@code EXPORT_ROOT/exportName} (or finds the
   * version this run already published), writes {@code results.json} and the report.
   *
   * @param others models scored on the same test data, shown above the trained model (e.g. the teacher)
   */
  RunResult finish(TrainedModel model, List<ModelScore> others, Extras extras) throws IOException {
    OptionalDouble trainCmi = OptionalDouble.empty();
    String exportName = s.exportName();
    ModelScore scored = null;
    Path export = null;
    boolean reused = false;
    try (InferenceModel m = model.load(Trainer.sessionConfig(s.threads()), inferenceOptions())) {
      if (data.test() != null) {
        scored = ModelScore.of(exportName, m.logits(data.test()), data.test(), model.trainableParameters());
      }
      java.util.Map<String, byte[]> files = new java.util.TreeMap<>();
      if (extras.beforeExport() != null) {
        trainCmi = extras.beforeExport().accept(m, scored, files);
      }
      if (s.exportRoot() != null) {
        Optional<Path> published = s.resume() ? dir.publishedExport(s.exportRoot(), exportName) : Optional.empty();
        if (published.isPresent()) {
          export = published.get();
          reused = true;
        } else {
          Dataset warmup = data.test() != null ? data.test() : data.train();
          ExportOptions options =
              ExportOptions.withManifest(manifest(model, scored))
                  .withWarmup(warmup, WARMUP_EXAMPLES, RunConfigs.warmupBatchSizes(s.config()))
                  .withSignatureChange(s.allowSignatureChange())
                  .withFeatures(s.config().getOutput().getExportFeatures());
          for (var f : files.entrySet()) {
            options = options.withFile(f.getKey(), f.getValue());
          }
          export = ServingExporter.exportNextVersion(m, s.exportRoot(), exportName, options);
        }
      }
    }
    List<ModelScore> all = new ArrayList<>(others);
    if (scored != null) {
      all.add(scored);
    }
    List<EpochMetrics> h = extras.history();
    List<String> warnings = warnings(h, scored, model.architecture().numClasses());
    Json.Members results =
        Json.object()
            .put("command", s.config().getCommand())
            .put("run_dir", dir.path().toString())
            .put("model", model.architecture().name())
            .put("parameters", model.trainableParameters())
            .put("epochs", h.size())
            .put("stopped_early", h.size() < extras.plannedEpochs())
            .put("global_steps", h.isEmpty() ? 0 : h.get(h.size() - 1).globalStep());
    if (!teacherOutput.isEmpty()) {
      results.put("teacher_output", teacherOutput);
    }
    if (!teacherUnsafeOps.isEmpty()) {
      results.put("teacher_unsafe_ops", teacherUnsafeOps);
    }
    if (export != null) {
      // Whether the export was reused is said on the console, not here: a resumed run's results equal an
      // uninterrupted run's.
      results.put("export", export.toString());
    }
    if (!h.isEmpty()) {
      EpochMetrics last = h.get(h.size() - 1);
      results.put("final_loss_total", last.total()).put("final_loss_hard", last.hard())
          .put("final_loss_soft", last.soft()).put("final_train_accuracy", last.accuracy());
    }
    for (ModelScore sc : all) {
      results.put(
          sc.name(),
          Json.object()
              .put("examples", sc.evaluation().examples())
              .put("accuracy", sc.evaluation().accuracy())
              .put("nll", sc.evaluation().nll())
              .put("ece", sc.reliability().ece())
              .put("cmi", sc.evaluation().cmi())
              .put("kl_to_posterior", sc.evaluation().klToPosterior()));
    }
    results.put("warnings", warnings);
    Path page =
        RunReport.write(
            dir.report(),
            new RunReport.Inputs(
                s.config().getCommand() + ": " + model.architecture().name() + " (" + dir.path().getFileName() + ")"
                    + (extras.note() == null ? "" : "; " + extras.note()),
                h,
                extras.cmi(),
                scored == null ? null : scored.reliability(),
                scored == null ? null : scored.perClass(),
                data.train().classCounts(),
                all.stream().map(ModelScore::row).toList(),
                RunConfigs.toText(s.config())));
    results.put("report", page.toString());
    AtomicFiles.writeString(dir.results(), results + "\n");
    return new RunResult(
        model.architecture().name(), model.trainableParameters(), all, h, extras.plannedEpochs(), model,
        extras.phases(), export, reused, dir.path(), dir.results(), page, trainCmi, warnings);
  }

  /**
   * What the figures say is wrong without being a failure: a finite loss whose final accuracy is no better than
   * guessing the class at random (e.g. a learning rate far too large) trained a model that learned nothing.
   */
  static List<String> warnings(List<EpochMetrics> history, ModelScore scored, int classes) {
    List<String> w = new ArrayList<>();
    double chance = 1.0 / classes;
    if (scored != null && scored.accuracy() <= chance) {
      w.add(
          String.format(
              Locale.ROOT,
              "final test accuracy %.4f is at or below chance (1/%d = %.4f): the model learned nothing; check the"
                  + " learning rate and the data",
              scored.accuracy(), classes, chance));
    } else if (scored == null && !history.isEmpty() && history.get(history.size() - 1).accuracy() <= chance) {
      w.add(
          String.format(
              Locale.ROOT,
              "final training accuracy %.4f is at or below chance (1/%d = %.4f): the model learned nothing; check"
                  + " the learning rate and the data",
              history.get(history.size() - 1).accuracy(), classes, chance));
    }
    return w;
  }

  /** The provenance manifest published inside the export's version directory. */
  private Manifest manifest(TrainedModel model, ModelScore scored) {
    Manifest m =
        new Manifest()
            .put("command", "tfkd " + s.config().getCommand())
            .put("run_id", runId)
            .put("parameters", model.trainableParameters())
            .put("seed", s.config().getTraining().getSeed())
            .put("configuration", com.google.protobuf.TextFormat.printer().printToString(s.config()))
;
    if (data.stream() != null) {
      var sh = data.stream().shards();
      m.streamedDataset("train", sh.name(), sh.size(), sh.exampleShape(), sh.numClasses(), sh.fingerprint());
    } else {
      m.dataset("train", data.train());
    }
    if (data.test() != null) {
      m.dataset("test", data.test());
    }
    if (teacherLogits != null) {
      m.teacher(teacherSource, teacherOutput, teacherUnsafeOps, teacherLogits);
    } else if (teacherDigest != null) {
      m.teacherDigest(teacherSource, teacherOutput, teacherDigest);
    }
    if (scored != null) {
      m.evaluation("test", scored.evaluation());
    }
    return m;
  }
}
