package dev.tfkd.cli;

import dev.tfkd.data.GaussianMixture;
import dev.tfkd.experiments.Demo;
import dev.tfkd.losses.Divergence;
import dev.tfkd.losses.Divergences;
import dev.tfkd.models.Mlp;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
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
      "Train a teacher, a student alone and a distilled student on the built-in Gaussian mixture (10 classes, 20 dimensions, exact Bayes posterior known), print a results table and export all three as SavedModels for TensorFlow Serving."
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

  @Option(names = "--threads", description = "TensorFlow intra-op threads, 0 to 256; 0 = all cores (default: ${DEFAULT-VALUE}).", defaultValue = "0")
  int threads;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    // Parsed before any training, so a mistyped spec costs nothing and leaves nothing behind.
    Divergence divergence = Divergences.parse(divergenceSpec);
    if (studentTrainSize < 1 || studentTrainSize > trainSize) {
      throw new IllegalArgumentException(
          "--student-train-size must be in [1, " + trainSize + "], got " + studentTrainSize);
    }
    GaussianMixture mixture = GaussianMixture.demo();
    int d = mixture.dimensions();
    int k = mixture.numClasses();
    Demo.Result r =
        Demo.run(
            new Demo.Options(
                trainSize, studentTrainSize, testSize, teacherEpochs, studentEpochs, divergence, ceWeight, kdWeight,
                seed, threads, out),
            Mlp.of(d, k, 256, 256), Mlp.of(d, k, 16), (phase, epochs) -> new EpochPrinter(o, epochs), o);
    o.println();
    r.table().forEach(o::println);
    o.println();
    o.println("SavedModels (tag serve, signature serving_default, input 'inputs' float32 [-1, " + d + "]):");
    for (Path p : r.exports()) {
      o.println("  " + p);
    }
    return Errors.OK;
  }
}
