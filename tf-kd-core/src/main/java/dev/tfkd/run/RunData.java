package dev.tfkd.run;

import dev.tfkd.config.ConfigException;
import dev.tfkd.config.DataConfig;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.RecordShards;
import dev.tfkd.data.io.TfRecordShards;
import dev.tfkd.training.TrainStream;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The data of a run.
 *
 * @param train what the model trains on; with {@code stream}, the stream's sample ({@link RecordShards#sample()}),
 *     which fixes the shape and classes and gives warm-up records but is never trained on
 * @param validation scored after every epoch (the test data, or a held-out split), or {@code null}
 * @param test what the final figures are measured on (the test data, or the held-out split), or {@code null}
 * @param stream the training data read as a stream, or {@code null} when it is in memory
 */
public record RunData(Dataset train, Dataset validation, Dataset test, TrainStream stream) {
  /**
   * Training data read as a stream when neither {@code data.stream} nor {@code data.stream_above_mb} is set: files
   * larger than this share of the Java heap (read into memory, IDX and CIFAR bytes become four times as many bytes
   * of floats).
   */
  static final double STREAM_ABOVE_HEAP_SHARE = 0.125;

  /** Requires the training data and checks that the other parts match its classes and example shape. */
  public RunData {
    Objects.requireNonNull(train, "train");
    if (stream != null && train != stream.shards().sample()) {
      throw new IllegalArgumentException("streamed training data is represented by its sample");
    }
    for (Dataset d : new Dataset[] {validation, test}) {
      if (d != null && d != train) {
        requireCompatible(train, d);
      }
    }
  }

  /** Data in memory. */
  public RunData(Dataset train, Dataset validation, Dataset test) {
    this(train, validation, test, null);
  }

  /**
   * Streamed training data, with {@code test} (in memory, or {@code null}) for validation and the final figures.
   *
   * @param train the stream
   * @param test the test data, also used for validation, or {@code null}
   * @return the data
   */
  public static RunData streamed(TrainStream train, Dataset test) {
    return new RunData(train.shards().sample(), test, test, train);
  }

  /** The number of training examples (all of a stream's). */
  public long trainSize() {
    return stream == null ? train.size() : stream.shards().size();
  }

  /** The training data's name (a stream's pattern). */
  public String trainName() {
    return stream == null ? train.name() : stream.shards().name();
  }

  /**
   * Whether a configuration's training data is read as a stream: {@code data.stream}, a glob pattern, or TFRecord,
   * uncompressed IDX, CIFAR or CSV files larger than {@link #streamAboveBytes}.
   */
  public static boolean streams(DataConfig d) {
    String t = d.getTrain();
    if (d.getStream() || TfRecordShards.isPattern(t)) {
      return true;
    }
    return RecordShards.streamableBytes(t, d.getFormat()) > streamAboveBytes(d);
  }

  /** The size above which training data streams by itself: {@code data.stream_above_mb}, or an eighth of the heap. */
  public static long streamAboveBytes(DataConfig d) {
    if (d.getStreamAboveMb() < 0) {
      throw new ConfigException("{data.stream_above_mb} must be >= 0, got " + d.getStreamAboveMb());
    }
    return d.getStreamAboveMb() > 0
        ? (long) d.getStreamAboveMb() << 20
        : (long) (STREAM_ABOVE_HEAP_SHARE * Runtime.getRuntime().maxMemory());
  }

  /**
   * {@code train} alone: nothing to validate or score on.
   *
   * @param train the training data
   * @return the data, with no validation or test part
   */
  public static RunData of(Dataset train) {
    return new RunData(train, null, null);
  }

  /**
   * {@code train}, with {@code test} for validation after every epoch and for the final figures.
   *
   * @param train the training data
   * @param test the test data, also used for validation
   * @return the data
   */
  public static RunData of(Dataset train, Dataset test) {
    return new RunData(train, test, test);
  }

  /**
   * {@code train} with a held-out {@code fraction} of it (a seeded shuffle) for validation and the final figures.
   *
   * @param train the data to split
   * @param fraction the share held out, in (0, 1)
   * @param seed seeds the shuffle
   * @return the training part, with the held-out part for validation and test
   * @throws ConfigException naming {@code data.validation_split} if the split leaves either part empty
   */
  public static RunData split(Dataset train, double fraction, long seed) {
    int n = train.size();
    int held = (int) Math.round(n * fraction);
    if (!(fraction > 0 && fraction < 1) || held < 1 || held >= n) {
      throw new ConfigException(
          "{data.validation_split} " + (float) fraction + " of " + n + " examples leaves " + held
              + " for validation and " + (n - held) + " for training");
    }
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(seed * 31 + 0x7A11D);
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    Dataset val = train.select(Arrays.copyOfRange(order, 0, held), train.name() + " (validation split)");
    Dataset rest = train.select(Arrays.copyOfRange(order, held, n), train.name() + " (training split)");
    return new RunData(rest, val, val);
  }

  /**
   * The data a configuration names: its training data and its test data or validation split ({@code seed} seeds
   * the split). Non-finite features are refused, naming example and feature.
    *
   * @param d the configuration's data section
   * @param seed seeds the validation split
   * @return the data
   */
  public static RunData load(DataConfig d, long seed) {
    String format = d.getFormat().isBlank() ? null : d.getFormat();
    if (streams(d)) {
      return loadStreamed(d, format);
    }
    Dataset train = DataSources.load(d.getTrain(), format, DataSources.Split.TRAIN);
    if (!d.getTest().isBlank()) {
      Dataset test = DataSources.load(d.getTest(), format, DataSources.Split.TEST);
      if (test.numClasses() != train.numClasses() || !Arrays.equals(test.exampleShape(), train.exampleShape())) {
        throw new IllegalArgumentException(
            d.getTest() + ": " + test.numClasses() + " classes of shape " + Arrays.toString(test.exampleShape())
                + ", but the training data has " + train.numClasses() + " of shape "
                + Arrays.toString(train.exampleShape()));
      }
      return of(train, test);
    }
    if (d.getValidationSplit() > 0) {
      return split(train, d.getValidationSplit(), seed);
    }
    return of(train);
  }

  private static RunData loadStreamed(DataConfig d, String format) {
    if (d.getValidationSplit() > 0) {
      throw new ConfigException(
          "{data.validation_split} cannot hold out part of streamed data (" + d.getTrain() + "); give {data.test}"
              + (d.getStream() || TfRecordShards.isPattern(d.getTrain())
                  ? ""
                  : ", or read it into memory with a larger {data.stream_above_mb} (it holds more than "
                      + (streamAboveBytes(d) >> 20) + " MiB)"));
    }
    TrainStream stream =
        new TrainStream(
            RecordShards.open(d.getTrain(), format, d.getClasses()),
            d.getShuffleBuffer() > 0 ? d.getShuffleBuffer() : TrainStream.DEFAULT_SHUFFLE_BUFFER,
            d.getStepsPerEpoch(),
            d.getParserThreads() > 0 ? d.getParserThreads() : TrainStream.DEFAULT_PARSER_THREADS);
    Dataset sample = stream.shards().sample();
    Dataset test = null;
    if (!d.getTest().isBlank()) {
      test = DataSources.load(d.getTest(), null, DataSources.Split.TEST);
      requireCompatible(sample, test);
    }
    return streamed(stream, test);
  }

  private static void requireCompatible(Dataset train, Dataset other) {
    if (other.numClasses() != train.numClasses() || !Arrays.equals(other.exampleShape(), train.exampleShape())) {
      throw new IllegalArgumentException(
          other.name() + ": " + other.numClasses() + " classes of shape " + Arrays.toString(other.exampleShape())
              + ", but the training data has " + train.numClasses() + " of shape "
              + Arrays.toString(train.exampleShape()));
    }
  }
}
