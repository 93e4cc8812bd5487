package dev.tfkd.data.io;

import dev.tfkd.data.DataChecks;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.data.Shapes;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Opens a dataset named on the command line: a built-in name (no download) or a file or folder path.
 *
 * <p>Built-in data: {@code gmm} (the demo's 10-class Gaussian mixture in 20 dimensions with known posterior; 20,000
 * training and 5,000 test examples), {@code shapes} (10 classes of procedurally drawn shapes, 32x32x3; 10,000
 * training and 2,000 test images) and {@code shapes28} (the same as 28x28x1 grey images).
 *
 * <p>Formats ({@link Format}), detected when not given: a {@code .csv}/{@code .tsv} file is CSV; a
 * {@code .tfrecord}/{@code .tfrecords}/{@code .tfr} file is TFRecord; a file starting (after gzip decompression)
 * with an IDX magic number is IDX (its labels file is found beside it, see {@link IdxReader}); a {@code .bin} file
 * whose size is a whole number of 3,073-byte (or 3,074-byte) records is CIFAR-10 (or CIFAR-100). A folder is read
 * by split: {@code data_batch_1..5.bin} / {@code test_batch.bin} (CIFAR-10), {@code train.bin} / {@code test.bin}
 * (CIFAR-100), {@code train-images-idx3-ubyte[.gz]} / {@code t10k-images-idx3-ubyte[.gz]} (IDX), {@code train/}
 * / {@code test/} image folders; otherwise a folder with one sub-folder of images per class is an image folder.
 * A single file is the same whatever the split.
 */
public final class DataSources {
  private DataSources() {}

  /** Which part of a dataset to produce; a single file ignores it (pass separate files for train and test). */
  public enum Split {
    /** The training split. */
    TRAIN,
    /** The test split. */
    TEST
  }

  /** The file formats, by the names {@code --format} takes. */
  public enum Format {
    /** IDX files (MNIST layout). */
    IDX,
    /** CIFAR binary batches. */
    CIFAR10,
    /** CIFAR-100 binary batches. */
    CIFAR100,
    /** A CSV file: label then features per line. */
    CSV,
    /** A folder of images, one sub-folder per class. */
    IMAGES,
    /** TFRecord files of tf.train.Example records. */
    TFRECORD;

    /** The lower-case name used on the command line. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a format name (case-insensitive). */
    public static Format parse(String s) {
      for (Format f : values()) {
        if (f.id().equalsIgnoreCase(s.strip())) {
          return f;
        }
      }
      throw new IllegalArgumentException(
          "unknown data format '" + s + "'; known: " + String.join(", ", Stream.of(values()).map(Format::id).toList()));
    }
  }

  private static final Map<String, Function<Split, Dataset>> BUILTIN = new LinkedHashMap<>();

  static {
    BUILTIN.put(
        "gmm",
        split ->
            split == Split.TRAIN
                ? GaussianMixture.demo().sample(20_000, 1, "gmm-train")
                : GaussianMixture.demo().sample(5_000, 1_000_004L, "gmm-test"));
    BUILTIN.put(
        "shapes",
        split ->
            split == Split.TRAIN
                ? new Shapes(32, 32, 3, 10).sample(10_000, 1, "shapes-train")
                : new Shapes(32, 32, 3, 10).sample(2_000, 1_000_004L, "shapes-test"));
    BUILTIN.put(
        "shapes28",
        split ->
            split == Split.TRAIN
                ? new Shapes(28, 28, 1, 10).sample(10_000, 2, "shapes28-train")
                : new Shapes(28, 28, 1, 10).sample(2_000, 1_000_005L, "shapes28-test"));
  }

  /** Built-in dataset names. */
  public static java.util.Set<String> builtinNames() {
    return java.util.Collections.unmodifiableSet(BUILTIN.keySet());
  }

  /** {@link #load(String, String, Split, int)} inferring the class count from the labels. */
  public static Dataset load(String spec, String format, Split split) {
    return load(spec, format, split, 0);
  }

  /**
   * Loads {@code spec}: a built-in name, or a path to a file or folder in a supported format.
   *
   * @param format the format name ({@link Format#id()}), or {@code null} to detect it
   * @param numClasses the class count, or 0 to take the format's (CIFAR) or the largest label plus one
   */
  public static Dataset load(String spec, String format, Split split, int numClasses) {
    Function<Split, Dataset> builtin = BUILTIN.get(spec);
    if (builtin != null) {
      return builtin.apply(split);
    }
    Path path = Path.of(spec);
    if (!Files.exists(path)) {
      throw new IllegalArgumentException(
          spec + ": no such file, and not a built-in dataset (built-in: " + String.join(", ", BUILTIN.keySet()) + ")");
    }
    if (!Files.isDirectory(path) && !Files.isRegularFile(path)) {
      // Reading a named pipe or a device would block or never end.
      throw new DataFormatException(path, "", "not a regular file or a folder (a pipe or a device is not a dataset)");
    }
    Format f = format == null || format.isBlank() ? null : Format.parse(format);
    // The readers reject non-finite values they can produce; this guards every format against NaN reaching training.
    return DataChecks.requireFinite(
        Files.isDirectory(path) ? loadFolder(path, f, split, numClasses) : loadFile(path, f == null ? detect(path) : f, numClasses));
  }

  /**
   * Loads {@code spec} for prediction: as {@link #load(String, String, Split)}, except that a CSV file may have no
   * label column (its width, {@code exampleSize} or {@code exampleSize + 1}, decides) and TFRecord files may have no
   * labels (e.g. {@code tf.Example}s with only the feature {@code x}).
   *
   * @param exampleSize the values per example the model takes
   * @param allowNonFinite let NaN and infinite feature values of a CSV or TFRecord file through (for a model that
   *     is to judge them); other formats never hold them
   * @return the examples, labelled when the data has labels
   */
  public static dev.tfkd.data.Examples loadExamples(
      String spec, String format, Split split, int exampleSize, boolean allowNonFinite) {
    Path path = Path.of(spec);
    if (!BUILTIN.containsKey(spec) && Files.isRegularFile(path)) {
      Format f = format == null || format.isBlank() ? detect(path) : Format.parse(format);
      dev.tfkd.data.Examples e =
          switch (f) {
            // Non-finite values are let through here and refused below, with the flag that allows them.
            case CSV -> CsvReader.readExamples(path, exampleSize, true);
            case TFRECORD -> TfRecordReader.readExamples(path);
            default -> null;
          };
      if (e != null) {
        if (!allowNonFinite) {
          requireFinite(path, e);
        }
        return e;
      }
    }
    return dev.tfkd.data.Examples.of(load(spec, format, split));
  }

  private static void requireFinite(Path file, dev.tfkd.data.Examples e) {
    float[] x = e.features();
    int size = e.exampleSize();
    for (int i = 0; i < x.length; i++) {
      if (!Float.isFinite(x[i])) {
        throw new DataFormatException(
            file, "example " + i / size + ", value " + i % size,
            x[i] + " is not a finite number (allow it with --allow-non-finite)");
      }
    }
  }

  /** Reads one file in {@code format}. */
  public static Dataset loadFile(Path file, Format format, int numClasses) {
    Dataset d =
        switch (format) {
          case IDX -> IdxReader.read(file, numClasses);
          case CIFAR10 -> Cifar.read(List.of(file), Cifar.Variant.CIFAR10, file.getFileName().toString());
          case CIFAR100 -> Cifar.read(List.of(file), Cifar.Variant.CIFAR100, file.getFileName().toString());
          case CSV -> CsvReader.read(file, numClasses);
          case TFRECORD -> TfRecordReader.read(file, numClasses);
          case IMAGES -> throw new IllegalArgumentException(file + ": the images format reads a folder, not a file");
        };
    return withClasses(d, numClasses);
  }

  /** The format of {@code file}, from its name and first bytes. */
  public static Format detect(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".csv") || name.endsWith(".tsv")) {
      return Format.CSV;
    }
    if (TfRecordReader.isTfRecordName(name)) {
      return Format.TFRECORD;
    }
    if (IdxReader.looksLikeIdx(head(file))) {
      return Format.IDX;
    }
    try {
      long size = Files.size(file);
      boolean c10 = size > 0 && size % Cifar.Variant.CIFAR10.recordSize() == 0;
      boolean c100 = size > 0 && size % Cifar.Variant.CIFAR100.recordSize() == 0;
      if (name.endsWith(".bin") && c10 != c100) {
        return c10 ? Format.CIFAR10 : Format.CIFAR100;
      }
      if (name.endsWith(".bin")) {
        throw new DataFormatException(
            file, "", size + " bytes is a whole number of neither CIFAR-10 (3,073-byte) nor CIFAR-100 (3,074-byte)"
                + " records; pass the format explicitly if it is one of them (truncated file?)");
      }
    } catch (IOException e) {
      throw cannotRead(file, e);
    }
    throw new DataFormatException(
        file, "", "cannot tell the format from the name or the first bytes; give it explicitly (one of "
            + String.join(", ", Stream.of(Format.values()).map(Format::id).toList()) + ")");
  }

  private static byte[] head(Path file) {
    try (InputStream raw = Files.newInputStream(file)) {
      byte[] h = raw.readNBytes(4);
      if (h.length >= 2 && (h[0] & 0xff) == 0x1f && (h[1] & 0xff) == 0x8b) {
        try (InputStream gz = new GZIPInputStream(Files.newInputStream(file))) {
          return gz.readNBytes(4);
        } catch (IOException e) {
          throw new DataFormatException(file, "byte 0", "gzip file cannot be decompressed: " + e.getMessage(), e);
        }
      }
      return h;
    } catch (IOException e) {
      throw cannotRead(file, e);
    }
  }

  /** An unreadable file is bad input (exit 2) naming the file, in every format. */
  private static DataFormatException cannotRead(Path file, IOException e) {
    String why = e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.getMessage();
    return new DataFormatException(file, "", "cannot read: " + why, e);
  }

  private static Dataset loadFolder(Path dir, Format format, Split split, int numClasses) {
    boolean train = split == Split.TRAIN;
    if (format == null || format == Format.CIFAR10) {
      List<Path> files = new ArrayList<>();
      if (train) {
        for (int i = 1; i <= 5; i++) {
          if (Files.isRegularFile(dir.resolve("data_batch_" + i + ".bin"))) {
            files.add(dir.resolve("data_batch_" + i + ".bin"));
          }
        }
      } else if (Files.isRegularFile(dir.resolve("test_batch.bin"))) {
        files.add(dir.resolve("test_batch.bin"));
      }
      if (!files.isEmpty()) {
        return withClasses(Cifar.read(files, Cifar.Variant.CIFAR10, dir.getFileName() + "-" + split.name().toLowerCase(Locale.ROOT)), numClasses);
      }
    }
    if (format == null || format == Format.CIFAR100) {
      Path f = dir.resolve(train ? "train.bin" : "test.bin");
      if (Files.isRegularFile(f)) {
        return withClasses(Cifar.read(List.of(f), Cifar.Variant.CIFAR100, dir.getFileName() + "-" + split.name().toLowerCase(Locale.ROOT)), numClasses);
      }
    }
    if (format == null || format == Format.IDX) {
      String[] prefixes = train ? new String[] {"train"} : new String[] {"t10k", "test"};
      for (String p : prefixes) {
        for (String suffix : new String[] {"-images-idx3-ubyte.gz", "-images-idx3-ubyte", "-images-idx4-ubyte.gz", "-images-idx4-ubyte"}) {
          Path f = dir.resolve(p + suffix);
          if (Files.isRegularFile(f)) {
            return IdxReader.read(f, numClasses);
          }
        }
      }
    }
    if (format == null || format == Format.IMAGES) {
      Path sub = dir.resolve(train ? "train" : "test");
      if (Files.isDirectory(sub) && ImageFolderReader.looksLikeImageFolder(sub)) {
        return withClasses(ImageFolderReader.read(sub), numClasses);
      }
      if (ImageFolderReader.looksLikeImageFolder(dir)) {
        return withClasses(ImageFolderReader.read(dir), numClasses);
      }
    }
    throw new IllegalArgumentException(
        dir + ": no " + (format == null ? "" : format.id() + " ") + "data for the " + split.name().toLowerCase(Locale.ROOT)
            + " split in this folder (expected CIFAR batches, train/t10k IDX files, train/ and test/ image folders,"
            + " or one sub-folder of images per class)");
  }

  private static Dataset withClasses(Dataset d, int numClasses) {
    if (numClasses <= 0 || numClasses == d.numClasses()) {
      return d;
    }
    if (numClasses < d.numClasses()) {
      // The Dataset constructor names the first label out of range.
      return new Dataset(d.name(), d.features(), d.labels(), d.exampleShape(), numClasses, null);
    }
    return new Dataset(d.name(), d.features(), d.labels(), d.exampleShape(), numClasses, d.posterior());
  }

  /**
   * The class names of {@code spec} when it is read as a folder of images, one sub-folder per class: the
   * sub-folder names in label order; otherwise (files, built-in data, other folders) empty.
   *
   * @param spec a path or a built-in name, as given to {@link #load(String, String, Split)}
   * @param format the format name, or {@code null} to detect it
   * @param split which split of a folder holding {@code train/} and {@code test/}
   * @return the names in label order, or empty
   * @throws java.io.UncheckedIOException if the folder cannot be listed
   */
  public static java.util.Optional<List<String>> classNames(String spec, String format, Split split) {
    if (BUILTIN.containsKey(spec)) {
      return java.util.Optional.empty();
    }
    Path dir = Path.of(spec);
    Format f = format == null || format.isBlank() ? null : Format.parse(format);
    if (!Files.isDirectory(dir) || (f != null && f != Format.IMAGES)) {
      return java.util.Optional.empty();
    }
    try {
      // The same folder loadFolder reads as images.
      Path sub = dir.resolve(split == Split.TRAIN ? "train" : "test");
      if (Files.isDirectory(sub) && ImageFolderReader.looksLikeImageFolder(sub)) {
        return java.util.Optional.of(ImageFolderReader.classNames(sub));
      }
      if (ImageFolderReader.looksLikeImageFolder(dir)) {
        return java.util.Optional.of(ImageFolderReader.classNames(dir));
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(dir + ": " + e.getMessage(), e);
    }
    return java.util.Optional.empty();
  }
}
