package dev.tfkd.cli;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.export.ExportOptions;
import dev.tfkd.export.Manifest;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.io.AtomicFiles;
import dev.tfkd.losses.Divergence;
import dev.tfkd.losses.Divergences;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.models.Mlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.Distillation;
import dev.tfkd.training.Objective;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.tensorflow.proto.ConfigProto;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tfkd demo}: the whole journey on built-in data. Trains a teacher MLP (cross-entropy), a small student
 * alone, and the same student distilled from the frozen teacher with the chosen divergence (Hinton's KL by
 * default); evaluates all three against the known Bayes posterior; exports each as a SavedModel and reloads the
 * exports to check them.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Train a teacher, a student alone and a distilled student on the built-in Gaussian mixture",
      "(10 classes, 20 dimensions, exact Bayes posterior known), print a results table and export",
      "all three as SavedModels for TensorFlow Serving."
    },
    footer = {
      "", "Examples:", "  tfkd demo", "  tfkd demo --out /tmp/models --seed 7 --threads 2",
      "  tfkd demo --divergence 'dkd(beta=4, warmup=5)'"
    })
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--out", description = "Export root (default: ${DEFAULT-VALUE}).", defaultValue = "savedmodels/demo")
  Path out;

  @Option(names = "--seed", description = "Seed for data, weights and order (default: ${DEFAULT-VALUE}).", defaultValue = "1")
  long seed;

  @Option(names = "--train-size", description = "Training examples (default: ${DEFAULT-VALUE}).", defaultValue = "20000")
  int trainSize;

  @Option(
      names = "--student-train-size",
      description = "Training examples the students see, a prefix of the teacher's (default: ${DEFAULT-VALUE}).",
      defaultValue = "2000")
  int studentTrainSize;

  @Option(names = "--test-size", description = "Test examples (default: ${DEFAULT-VALUE}).", defaultValue = "5000")
  int testSize;

  @Option(names = "--teacher-epochs", description = "Teacher epochs (default: ${DEFAULT-VALUE}).", defaultValue = "10")
  int teacherEpochs;

  @Option(names = "--student-epochs", description = "Student epochs (default: ${DEFAULT-VALUE}).", defaultValue = "50")
  int studentEpochs;

  @Option(
      names = "--divergence",
      paramLabel = "SPEC",
      description = {
        "Distillation divergence, e.g. kl, 'kl(T=2)', 'dkd(beta=4)', cswt:kl (default: ${DEFAULT-VALUE}).",
        "'tfkd divergences' lists them all with formulas and defaults."
      },
      defaultValue = "kl")
  String divergenceSpec;

  @Option(names = "--ce-weight", description = "Weight of the label loss (default: ${DEFAULT-VALUE}).", defaultValue = "0.1")
  float ceWeight;

  @Option(names = "--kd-weight", description = "Weight of the divergence to the teacher (default: ${DEFAULT-VALUE}).", defaultValue = "0.9")
  float kdWeight;

  @Option(names = "--threads", description = "TensorFlow intra-op threads, 0 = all cores (default: ${DEFAULT-VALUE}).", defaultValue = "0")
  int threads;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    // Parsed before any training, so a mistyped spec costs nothing and leaves nothing behind.
    Divergence divergence = Divergences.parse(divergenceSpec);
    GaussianMixture mixture = GaussianMixture.demo();
    Dataset train = mixture.sample(trainSize, seed, "gmm-train");
    Dataset test = mixture.sample(testSize, seed + 1_000_003L, "gmm-test");
    if (studentTrainSize < 1 || studentTrainSize > trainSize) {
      throw new IllegalArgumentException(
          "--student-train-size must be in [1, " + trainSize + "], got " + studentTrainSize);
    }
    Dataset studentTrain = train.select(java.util.stream.IntStream.range(0, studentTrainSize).toArray(), "gmm-train-student");
    int d = mixture.dimensions();
    int k = mixture.numClasses();
    Mlp teacherArch = Mlp.of(d, k, 256, 256);
    Mlp studentArch = Mlp.of(d, k, 16);
    OptimizerConfig adam = OptimizerConfig.adam(1e-3f);
    TrainConfig teacherCfg = new TrainConfig(teacherEpochs, 128, adam, seed, threads);
    TrainConfig studentCfg = new TrainConfig(studentEpochs, 128, adam, seed + 1, threads);
    ConfigProto session = Trainer.sessionConfig(threads);
    o.printf(
        "tf-kd demo: Gaussian mixture, %d classes in %d dimensions; teacher trains on %d examples, students on %d,"
            + " test %d%n",
        k, d, train.size(), studentTrain.size(), test.size());

    Path work = Files.createTempDirectory("tfkd-demo-");
    try {
      o.printf("training teacher %s (cross-entropy, %d epochs)%n", teacherArch.name(), teacherEpochs);
      TrainedModel teacher = train(teacherCfg, teacherArch, train, new CrossEntropy(), null, work, o);
      float[] teacherLogits;
      try (InferenceModel t = teacher.load(session)) {
        teacherLogits = t.logits(studentTrain);
      }
      o.printf("training student %s alone (cross-entropy, %d epochs)%n", studentArch.name(), studentEpochs);
      TrainedModel alone = train(studentCfg, studentArch, studentTrain, new CrossEntropy(), null, work, o);
      Objective kd = new Distillation(ceWeight, kdWeight, divergence);
      o.printf("distilling student %s from the teacher (%s, %d epochs)%n", studentArch.name(), kd.describe(), studentEpochs);
      TrainedModel distilled = train(studentCfg, studentArch, studentTrain, kd, teacherLogits, work, o);

      List<String[]> rows = new ArrayList<>();
      rows.add(row("Bayes posterior", Metrics.bayes(test), -1));
      List<Path> exports = new ArrayList<>();
      String[] names = {"teacher", "student-alone", "student-distilled"};
      TrainedModel[] models = {teacher, alone, distilled};
      TrainConfig[] configs = {teacherCfg, studentCfg, studentCfg};
      String[] objectives = {"cross-entropy", "cross-entropy", kd.describe()};
      for (int i = 0; i < models.length; i++) {
        try (InferenceModel m = models[i].load(session)) {
          Evaluation ev = Metrics.evaluate(m.logits(test), test);
          rows.add(row(names[i], ev, models[i].trainableParameters()));
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
            manifest.teacher(exportsSoFar(exports, 0), teacherLogits);
          }
          exports.add(
              ServingExporter.exportNextVersion(
                  m, out, names[i], ExportOptions.withManifest(manifest).withWarmup(test, 10, 1)));
        }
      }
      o.println();
      printTable(o, rows);
      o.println();
      o.println("SavedModels (tag serve, signature serving_default, input 'inputs' float32 [-1, " + d + "]):");
      for (Path p : exports) {
        o.println("  " + p);
      }
      return Errors.OK;
    } finally {
      AtomicFiles.deleteQuietly(work);
    }
  }

  private static java.util.Map<String, Object> training(TrainConfig cfg, String objective, String architecture) {
    java.util.Map<String, Object> t = new java.util.LinkedHashMap<>();
    t.put("architecture", architecture);
    t.put("objective", objective);
    t.put("config", cfg);
    return t;
  }

  private static String exportsSoFar(List<Path> exports, int i) {
    return exports.size() > i ? exports.get(i).toString() : "";
  }

  private static TrainedModel train(
      TrainConfig cfg, Mlp arch, Dataset train, Objective objective, float[] teacherLogits, Path work, PrintWriter o) {
    Trainer trainer = new Trainer(cfg, List.of(new EpochPrinter(o, cfg.epochs())));
    return trainer.train(arch, train, objective, teacherLogits, work);
  }

  private static String[] row(String name, Evaluation e, long params) {
    return new String[] {
      name,
      String.format(Locale.ROOT, "%.4f", e.accuracy()),
      String.format(Locale.ROOT, "%.4f", e.nll()),
      params < 0 ? "-" : Long.toString(params),
      String.format(Locale.ROOT, "%.4f", e.klToPosterior())
    };
  }

  static void printTable(PrintWriter o, List<String[]> rows) {
    String[] header = {"model", "test accuracy", "test NLL", "parameters", "KL(posterior || model)"};
    int[] w = new int[header.length];
    for (int c = 0; c < header.length; c++) {
      w[c] = header[c].length();
      for (String[] r : rows) {
        w[c] = Math.max(w[c], r[c].length());
      }
    }
    o.println(line(header, w));
    StringBuilder sep = new StringBuilder("|");
    for (int c = 0; c < w.length; c++) {
      sep.append(c == 0 ? " :" : " ").append("-".repeat(w[c] - (c == 0 ? 1 : 1))).append(c == 0 ? " |" : ": |");
    }
    o.println(sep);
    for (String[] r : rows) {
      o.println(line(r, w));
    }
  }

  private static String line(String[] cells, int[] w) {
    StringBuilder b = new StringBuilder("|");
    for (int c = 0; c < cells.length; c++) {
      String cell = cells[c];
      String pad = " ".repeat(w[c] - cell.length());
      b.append(' ').append(c == 0 ? cell + pad : pad + cell).append(" |");
    }
    return b.toString();
  }
}
