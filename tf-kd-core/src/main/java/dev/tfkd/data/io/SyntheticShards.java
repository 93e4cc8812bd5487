package dev.tfkd.data.io;

import dev.tfkd.io.TfRecord;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.Int64List;

/**
 * Writes a synthetic classification dataset as sharded TFRecord files of {@code tf.Example} records, of any size:
 * for trying and measuring streamed training ({@code tfkd data synth}), in benchmarks and tests.
 *
 * <p>Each class has a prototype drawn uniformly from [0, 1] per value; an example of class {@code y} is {@code 0.6
 * * prototype[y] + 0.4 * u} with {@code u} uniform in [0, 1] per value, so the classes are learnable but overlap.
 * Records hold float features under {@code image} with their {@code shape} and an int64 {@code label} (what
 * {@link TfRecordReader} reads). Labels are drawn uniformly. Everything is a function of the seed.
 */
public final class SyntheticShards {
  private SyntheticShards() {}

  /**
   * Writes the examples of {@code data} in order into {@code shards} files {@code DIR/PREFIX-00000-of-000NN.tfrecord}
   * (float features under {@code image} with their {@code shape}, an int64 {@code label}): data in memory as a
   * stream would read it, e.g. to compare the two.
   *
   * @return the files written, in name order
   * @throws UncheckedIOException when writing fails
   */
  public static List<Path> write(dev.tfkd.data.Dataset data, Path dir, String prefix, int shards) {
    if (shards < 1 || data.size() < shards) {
      throw new IllegalArgumentException("cannot write " + data.size() + " examples in " + shards + " shards");
    }
    Int64List.Builder shapeList = Int64List.newBuilder();
    for (long d : data.exampleShape()) {
      shapeList.addValue(d);
    }
    Feature shapeFeature = Feature.newBuilder().setInt64List(shapeList).build();
    int e = data.exampleSize();
    List<Path> out = new ArrayList<>();
    try {
      Files.createDirectories(dir);
      for (int s = 0; s < shards; s++) {
        Path file = dir.resolve(String.format(Locale.ROOT, "%s-%05d-of-%05d.tfrecord", prefix, s, shards));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
          for (int i = (int) ((long) data.size() * s / shards); i < (long) data.size() * (s + 1) / shards; i++) {
            FloatList.Builder v = FloatList.newBuilder();
            for (int j = 0; j < e; j++) {
              v.addValue(data.features()[i * e + j]);
            }
            TfRecord.write(o, example(v, shapeFeature, data.labels()[i]).toByteArray());
          }
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        out.add(file);
      }
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot write " + dir + ": " + ex.getMessage(), ex);
    }
    return out;
  }

  private static Example example(FloatList.Builder values, Feature shape, long label) {
    return Example.newBuilder()
        .setFeatures(
            Features.newBuilder()
                .putFeature("image", Feature.newBuilder().setFloatList(values).build())
                .putFeature("shape", shape)
                .putFeature("label", Feature.newBuilder().setInt64List(Int64List.newBuilder().addValue(label)).build()))
        .build();
  }

  /**
   * Writes {@code examples} examples into {@code shards} files {@code DIR/PREFIX-00000-of-000NN.tfrecord}, each
   * written under a temporary name and renamed when complete.
   *
   * @param shape the shape of one example
   * @return the files written, in name order
   * @throws IllegalArgumentException for a non-positive count, shape or class count
   * @throws UncheckedIOException when writing fails
   */
  public static List<Path> write(Path dir, String prefix, int shards, long examples, long[] shape, int classes, long seed) {
    long e = 1;
    for (long d : shape) {
      if (d < 1) {
        throw new IllegalArgumentException("bad example shape " + java.util.Arrays.toString(shape));
      }
      e *= d;
    }
    if (shards < 1 || examples < shards || classes < 2 || e > 1 << 24) {
      throw new IllegalArgumentException(
          "cannot write " + examples + " examples of " + e + " values in " + shards + " shards of " + classes + " classes");
    }
    int size = (int) e;
    SplittableRandom root = new SplittableRandom(seed);
    float[][] prototypes = new float[classes][size];
    for (float[] p : prototypes) {
      for (int i = 0; i < size; i++) {
        p[i] = (float) root.nextDouble();
      }
    }
    Int64List.Builder shapeList = Int64List.newBuilder();
    for (long d : shape) {
      shapeList.addValue(d);
    }
    Feature shapeFeature = Feature.newBuilder().setInt64List(shapeList).build();
    List<Path> out = new ArrayList<>();
    try {
      Files.createDirectories(dir);
      for (int s = 0; s < shards; s++) {
        Path file = dir.resolve(String.format(Locale.ROOT, "%s-%05d-of-%05d.tfrecord", prefix, s, shards));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        long from = examples * s / shards;
        long to = examples * (s + 1) / shards;
        SplittableRandom rng = root.split();
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
          for (long i = from; i < to; i++) {
            int y = rng.nextInt(classes);
            FloatList.Builder v = FloatList.newBuilder();
            float[] p = prototypes[y];
            for (int j = 0; j < size; j++) {
              v.addValue(0.6f * p[j] + 0.4f * (float) rng.nextDouble());
            }
            TfRecord.write(o, example(v, shapeFeature, y).toByteArray());
          }
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        out.add(file);
      }
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot write " + dir + ": " + ex.getMessage(), ex);
    }
    return out;
  }
}
