package dev.tfkd.cli;

import dev.tfkd.models.Models;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tfkd models}: lists the model zoo with each model's trainable parameter count for an input shape and a
 * class count, and the bounds of each model's numeric arguments (by default CIFAR-100's: 32x32x3 and 100), counted by building the model's graph.
 */
@Command(
    name = "models",
    mixinStandardHelpOptions = true,
    description = {
      "List the model zoo: every model name with its parameter count for the given input and classes (default 32x32x3 and 100 classes, the CIFAR-100 benchmark setting, where the reference zoo's count is shown beside it) and a description.",
      "Use a name (or name:args) wherever a command asks for a model."
    },
    footer = {"", "Examples:", "  tfkd models", "  tfkd models --input 28x28x1 --classes 10", "  tfkd models --features resnet8x4"})
final class ModelsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--input", description = "Input shape HxWxC (default: ${DEFAULT-VALUE}).", defaultValue = "32x32x3")
  String input;

  @Option(names = "--classes", description = "Number of classes K (default: ${DEFAULT-VALUE}).", defaultValue = "100")
  int classes;

  @Option(names = "--features", paramLabel = "MODEL", description = "List MODEL's feature points (what feature losses read) with their shapes for the input, instead of the zoo.")
  String features;

  @Override
  public Integer call() {
    long[] shape = parseShape(input);
    if (classes < 1) {
      throw new IllegalArgumentException("--classes must be >= 1, got " + classes);
    }
    PrintWriter o = spec.commandLine().getOut();
    if (features != null) {
      var a = Models.create(features, shape, classes);
      o.printf(Locale.ROOT, "Feature points of %s for input %s and %d classes (shapes per example, NHWC):%n", a.name(), input, classes);
      for (dev.tfkd.graph.FeaturePoint p : a.featurePoints()) {
        o.printf(Locale.ROOT, "  %-12s %s%n", p.name(), Arrays.toString(p.shape()));
      }
      o.println("stem: the stem's output; stageN: stage N's output after its final ReLU, stageN_pre: before it (a");
      o.println("pre-activation Wide ResNet: the residual sum, and its batch normalisation by the next block); pooled: the");
      o.println("vector the classifier reads; logits.");
      o.flush();
      return Errors.OK;
    }
    o.printf(Locale.ROOT, "Models for input %s and %d classes:%n", input, classes);
    int w = Models.entries().stream().mapToInt(e -> e.name().length()).max().orElse(5);
    // The reference zoo's counts are for CIFAR-100; show them only when that is what was asked for.
    boolean cifar100 = Arrays.equals(shape, new long[] {32, 32, 3}) && classes == 100;
    o.printf(Locale.ROOT, "%-" + w + "s  %12s  %s%s%n", "model", "parameters", cifar100 ? "   reference  " : "", "description");
    for (Models.Entry e : Models.entries()) {
      String count;
      try {
        long n = Models.parameterCount(Models.create(e.name(), shape, classes));
        count = String.format(Locale.ROOT, "%,d", n);
      } catch (IllegalArgumentException ex) {
        // A model that cannot take this input (LeNet-5 on tiny images) is still listed, with the reason.
        count = "n/a";
        o.printf(Locale.ROOT, "%-" + w + "s  %12s  %s%s (%s)%n", e.name(), count, reference(e, cifar100),
            e.description(), ex.getMessage());
        continue;
      }
      o.printf(Locale.ROOT, "%-" + w + "s  %12s  %s%s%s%n", e.name(), count, reference(e, cifar100), e.description(),
          e.bounds().isEmpty() ? "" : "; bounds: " + e.bounds());
    }
    o.println();
    o.println("Training refuses a model whose estimated memory (parameters, gradients, optimizer slots, activations");
    o.println("at the batch size) exceeds the memory this machine has available, before building it.");
    o.flush();
    return Errors.OK;
  }

  private static String reference(Models.Entry e, boolean cifar100) {
    if (!cifar100) {
      return "";
    }
    return e.cifar100Reference() > 0 ? String.format(Locale.ROOT, "%12s  ", String.format(Locale.ROOT, "%,d", e.cifar100Reference())) : String.format(Locale.ROOT, "%12s  ", "-");
  }

  static long[] parseShape(String s) {
    String[] parts = s.toLowerCase(Locale.ROOT).split("x");
    try {
      long[] dims = Arrays.stream(parts).mapToLong(p -> Long.parseLong(p.strip())).toArray();
      if (dims.length == 3 && Arrays.stream(dims).allMatch(d -> d >= 1 && d <= 65536)) {
        return dims;
      }
    } catch (NumberFormatException ignored) {
      // Reported below with the expected form.
    }
    throw new IllegalArgumentException("--input must be HxWxC with positive sizes, e.g. 32x32x3; got '" + s + "'");
  }
}
