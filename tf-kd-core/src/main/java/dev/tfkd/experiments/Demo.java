package dev.tfkd.experiments;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.export.ExportOptions;
import dev.tfkd.export.Manifest;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.io.AtomicFiles;
import dev.tfkd.losses.Divergence;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.run.PhaseListener;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.Distillation;
import dev.tfkd.training.Objective;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;
import org.tensorflow.proto.ConfigProto;

/**
 * The whole journey on the built-in Gaussian mixture ({@link GaussianMixture#demo()}, exact Bayes posterior
 * known): trains a teacher (cross-entropy), a student alone and the same student distilled from the frozen teacher,
 * scores all three against the posterior, and exports each as the next version of {@code EXPORT_ROOT/teacher},
 * {@code student-alone} and {@code student-distilled}, with a provenance manifest and warm-up records.
 */
public final class Demo {
  private Demo() {}

  /**
   * The demo's settings.
   *
   * @param trainSize the teacher's training examples
   * @param studentTrainSize the students' training examples, a prefix of the teacher's
   * @param testSize test examples
   * @param teacherEpochs the teacher's epochs
   * @param studentEpochs each student's epochs
   * @param divergence the distillation divergence
   * @param ceWeight the distilled student's label-loss weight
   * @param kdWeight the distilled student's divergence weight
   * @param seed seed of data, weights and order
   * @param threads TensorFlow intra-op threads (0: all cores)
   * @param exportRoot where the three SavedModels go
   */
  public record Options(
      int trainSize, int studentTrainSize, int testSize, int teacherEpochs, int studentEpochs, Divergence divergence,
      float ceWeight, float kdWeight, long seed, int threads, Path exportRoot) {
    /** Checks the sizes. */
    public Options {
      Objects.requireNonNull(divergence, "divergence");
      Objects.requireNonNull(exportRoot, "exportRoot");
      if (studentTrainSize < 1 || studentTrainSize > trainSize) {
        throw new IllegalArgumentException(
            "the students' training size must be in [1, " + trainSize + "], got " + studentTrainSize);
      }
    }
  }

  /**
   * One row of the results.
   *
   * @param model the model's name ({@code Bayes posterior}, {@code teacher}, {@code student-alone},
   *     {@code student-distilled})
   * @param evaluation its figures on the test data
   * @param parameters its trainable parameters, or -1 for the posterior
   */
  public record Row(String model, Evaluation evaluation, long parameters) {}

  /**
   * What the demo produced.
   *
   * @param rows the posterior, then the three models
   * @param exports the three published version directories
   * @param dimensions the mixture's feature count
   */
  public record Result(List<Row> rows, List<Path> exports, int dimensions) {
    /** The results as a Markdown table, one string per line: accuracy, NLL, parameters, KL to the posterior. */
    public List<String> table() {
      String[] header = {"model", "test accuracy", "test NLL", "parameters", "KL(posterior || model)"};
      List<String[]> cells = new ArrayList<>();
      for (Row r : rows) {
        Evaluation e = r.evaluation();
        cells.add(
            new String[] {
              r.model(), String.format(Locale.ROOT, "%.4f", e.accuracy()), String.format(Locale.ROOT, "%.4f", e.nll()),
              r.parameters() < 0 ? "-" : Long.toString(r.parameters()),
              String.format(Locale.ROOT, "%.4f", e.klToPosterior())
            });
      }
      int[] w = new int[header.length];
      for (int c = 0; c < header.length; c++) {
        w[c] = header[c].length();
        for (String[] r : cells) {
          w[c] = Math.max(w[c], r[c].length());
        }
      }
      List<String> lines = new ArrayList<>();
      lines.add(line(header, w));
      StringBuilder sep = new StringBuilder("|");
      for (int c = 0; c < w.length; c++) {
        sep.append(c == 0 ? " :" : " ").append("-".repeat(w[c] - 1)).append(c == 0 ? " |" : ": |");
      }
      lines.add(sep.toString());
      for (String[] r : cells) {
        lines.add(line(r, w));
      }
      return lines;
    }

    private static String line(String[] cells, int[] w) {
      StringBuilder b = new StringBuilder("|");
      for (int c = 0; c < cells.length; c++) {
        String pad = " ".repeat(w[c] - cells[c].length());
        b.append(' ').append(c == 0 ? cells[c] + pad : pad + cells[c]).append(" |");
      }
      return b.toString();
    }
  }

  /**
   * Runs the demo, announcing each training on {@code out}.
   *
   * @param teacherArch the teacher's architecture for the mixture's examples and classes
   * @param studentArch the students' architecture
   * @param epochs a listener for each training (e.g. one line per epoch), given its label and epochs
   */
  public static Result run(
      Options o, Architecture teacherArch, Architecture studentArch, PhaseListener epochs, PrintWriter out)
      throws IOException {
    GaussianMixture mixture = GaussianMixture.demo();
    Dataset train = mixture.sample(o.trainSize(), o.seed(), "gmm-train");
    Dataset test = mixture.sample(o.testSize(), o.seed() + 1_000_003L, "gmm-test");
    Dataset studentTrain = train.select(IntStream.range(0, o.studentTrainSize()).toArray(), "gmm-train-student");
    OptimizerConfig adam = OptimizerConfig.adam(1e-3f);
    TrainConfig teacherCfg = new TrainConfig(o.teacherEpochs(), 128, adam, o.seed(), o.threads());
    TrainConfig studentCfg = new TrainConfig(o.studentEpochs(), 128, adam, o.seed() + 1, o.threads());
    ConfigProto session = Trainer.sessionConfig(o.threads());
    out.printf(
        "tf-kd demo: Gaussian mixture, %d classes in %d dimensions; teacher trains on %d examples, students on %d,"
            + " test %d%n",
        mixture.numClasses(), mixture.dimensions(), train.size(), studentTrain.size(), test.size());
    Path work = Files.createTempDirectory("tfkd-demo-");
    try {
      out.printf("training teacher %s (cross-entropy, %d epochs)%n", teacherArch.name(), o.teacherEpochs());
      TrainedModel teacher = train(teacherCfg, teacherArch, train, new CrossEntropy(), null, work, epochs, "teacher");
      float[] teacherLogits;
      try (InferenceModel t = teacher.load(session)) {
        teacherLogits = t.logits(studentTrain);
      }
      out.printf("training student %s alone (cross-entropy, %d epochs)%n", studentArch.name(), o.studentEpochs());
      TrainedModel alone = train(studentCfg, studentArch, studentTrain, new CrossEntropy(), null, work, epochs, "student-alone");
      Objective kd = new Distillation(o.ceWeight(), o.kdWeight(), o.divergence());
      out.printf(
          "distilling student %s from the teacher (%s, %d epochs)%n", studentArch.name(), kd.describe(), o.studentEpochs());
      TrainedModel distilled =
          train(studentCfg, studentArch, studentTrain, kd, teacherLogits, work, epochs, "student-distilled");

      List<Row> rows = new ArrayList<>();
      rows.add(new Row("Bayes posterior", Metrics.bayes(test), -1));
      List<Path> exports = new ArrayList<>();
      String[] names = {"teacher", "student-alone", "student-distilled"};
      TrainedModel[] models = {teacher, alone, distilled};
      TrainConfig[] configs = {teacherCfg, studentCfg, studentCfg};
      String[] objectives = {"cross-entropy", "cross-entropy", kd.describe()};
      for (int i = 0; i < models.length; i++) {
        try (InferenceModel m = models[i].load(session)) {
          Evaluation ev = Metrics.evaluate(m.logits(test), test);
          rows.add(new Row(names[i], ev, models[i].trainableParameters()));
          // Provenance travels inside the version directory, published atomically with the model.
          Manifest manifest =
              new Manifest()
                  .put("command", "tfkd demo")
                  .put("training", training(configs[i], objectives[i], models[i].architecture().name()))
                  .put("seed", configs[i].seed())
                  .dataset("train", i == 0 ? train : studentTrain)
                  .dataset("test", test)
                  .evaluation("test", ev);
          if (i == 2) {
            manifest.teacher(exports.isEmpty() ? "" : exports.get(0).toString(), teacherLogits);
          }
          exports.add(
              ServingExporter.exportNextVersion(
                  m, o.exportRoot(), names[i], ExportOptions.withManifest(manifest).withWarmup(test, 10, 1)));
        }
      }
      return new Result(rows, exports, mixture.dimensions());
    } finally {
      try {
        AtomicFiles.deleteRecursively(work);
      } catch (IOException e) {
        // A temporary directory we could not remove is not worth failing the run for.
      }
    }
  }

  private static Map<String, Object> training(TrainConfig cfg, String objective, String architecture) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("architecture", architecture);
    t.put("objective", objective);
    t.put("config", cfg);
    return t;
  }

  private static TrainedModel train(
      TrainConfig cfg, Architecture arch, Dataset train, Objective objective, float[] teacherLogits, Path work,
      PhaseListener epochs, String label) {
    Trainer trainer = new Trainer(cfg, List.of(epochs.create(label, cfg.epochs())));
    return trainer.train(arch, train, objective, teacherLogits, work);
  }
}
