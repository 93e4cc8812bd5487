package dev.tfkd.cli;

import dev.tfkd.data.io.SyntheticShards;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tfkd data synth}: writes a synthetic classification dataset of any size as sharded TFRecord files of
 * {@code tf.Example} records ({@link SyntheticShards}), for trying streamed training on data larger than memory.
 */
@Command(
    name = "synth",
    mixinStandardHelpOptions = true,
    description = {
      "Write a synthetic dataset as sharded TFRecord files of tf.Example records (float features under 'image' with their 'shape', an int64 'label'): OUT/PREFIX-00000-of-NNNNN.tfrecord ... Each class has a random prototype; an example is 0.6 * prototype + 0.4 * uniform noise. A function of --seed."
    },
    footer = {
      "", "Example (about 2.5 GB):",
      "  tfkd data synth --out data/big --examples 800000 --shards 16 --shape 28,28,1 --classes 10",
      "  tfkd train-teacher --train 'data/big/train-*.tfrecord' --model mlp:64 --steps-per-epoch 1000"
    })
final class DataSynthCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder the shards are written to (created if missing).")
  Path out;

  @Option(names = "--prefix", description = "File name prefix (default: ${DEFAULT-VALUE}).", defaultValue = "train")
  String prefix;

  @Option(names = "--examples", description = "Examples in all shards (default: ${DEFAULT-VALUE}).", defaultValue = "10000")
  long examples;

  @Option(names = "--shards", description = "Files (default: ${DEFAULT-VALUE}).", defaultValue = "4")
  int shards;

  @Option(names = "--shape", split = ",", description = "Shape of one example (default: 28,28,1).", defaultValue = "28,28,1")
  long[] shape;

  @Option(names = "--classes", description = "Classes (default: ${DEFAULT-VALUE}).", defaultValue = "10")
  int classes;

  @Option(names = "--seed", description = "Seed (default: ${DEFAULT-VALUE}).", defaultValue = "1")
  long seed;

  @Override
  public Integer call() throws Exception {
    if (examples < shards || shards < 1 || classes < 2) {
      throw new IllegalArgumentException(
          "--examples must be >= --shards >= 1 and --classes >= 2; got " + examples + ", " + shards + ", " + classes);
    }
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new IllegalArgumentException("--out " + out + ": is a file, not a folder");
    }
    long start = System.nanoTime();
    List<Path> files = SyntheticShards.write(out, prefix, shards, examples, shape, classes, seed);
    long bytes = 0;
    for (Path f : files) {
      bytes += Files.size(f);
    }
    PrintWriter o = spec.commandLine().getOut();
    o.printf(
        Locale.ROOT, "wrote %d examples of shape %s, %d classes, in %d shards (%.1f MB) to %s in %.1f s%n", examples,
        Arrays.toString(shape), classes, files.size(), bytes / 1e6, out, (System.nanoTime() - start) / 1e9);
    o.printf(Locale.ROOT, "train on it with --train '%s'%n", out.resolve(prefix + "-*.tfrecord"));
    o.flush();
    return Errors.OK;
  }
}
