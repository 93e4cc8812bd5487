package dev.tfkd.cli;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.Normalization;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tfkd data}: reads a dataset (built-in, file or folder) the way training would and prints what it holds,
 * or the one-line reason it cannot be read (exit 2).
 */
@Command(
    name = "data",
    mixinStandardHelpOptions = true,
    subcommands = DataSynthCommand.class,
    description = {
      "Read a dataset and print its size, example shape, classes, class counts and per-channel statistics.",
      "DATA is a built-in name (gmm, shapes, shapes28) or a path; formats: idx, cifar10, cifar100, csv, images, tfrecord (detected from the name and first bytes unless --format is given)."
    },
    footer = {
      "", "Examples:", "  tfkd data shapes", "  tfkd data data/mnist/train-images-idx3-ubyte.gz",
      "  tfkd data data/cifar-10-batches-bin --split test", "  tfkd data table.csv --classes 3"
    })
final class DataCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  // Optional for picocli, so that `tfkd data synth` is not read as a missing DATA; call() requires it.
  @Parameters(paramLabel = "DATA", arity = "0..1", description = "Built-in name, file or folder.")
  String data;

  @Option(names = "--format", description = "Format, when detection is not wanted: idx, cifar10, cifar100, csv, images, tfrecord.")
  String format;

  @Option(names = "--split", description = "train or test (folders and built-in data; default: ${DEFAULT-VALUE}).", defaultValue = "train")
  String split;

  @Option(names = "--classes", description = "Number of classes (default: from the format or the largest label + 1).", defaultValue = "0")
  int classes;

  @Override
  public Integer call() {
    if (data == null) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Missing required parameter: 'DATA'");
    }
    DataSources.Split s;
    try {
      s = DataSources.Split.valueOf(split.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--split must be train or test, got '" + split + "'");
    }
    if (classes < 0) {
      throw new IllegalArgumentException("--classes must be >= 0, got " + classes);
    }
    Dataset d = DataSources.load(data, format, s, classes);
    PrintWriter o = spec.commandLine().getOut();
    o.printf(Locale.ROOT, "%s (%s split)%n", d.name(), split.toLowerCase(Locale.ROOT));
    o.printf(Locale.ROOT, "examples: %d%n", d.size());
    o.printf(Locale.ROOT, "example shape: %s%n", Arrays.toString(d.exampleShape()));
    o.printf(Locale.ROOT, "classes: %d%n", d.numClasses());
    o.printf(Locale.ROOT, "class counts: %s%n", Arrays.toString(d.classCounts()));
    if (d.size() > 0) {
      Normalization n = Normalization.fit(d);
      if (n.mean().length <= 16) {
        o.printf(Locale.ROOT, "per-channel mean: %s%n", format(n.mean()));
        o.printf(Locale.ROOT, "per-channel std: %s%n", format(n.std()));
      }
    }
    o.flush();
    return Errors.OK;
  }

  private static String format(float[] v) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", v[i]));
    }
    return b.append(']').toString();
  }
}
