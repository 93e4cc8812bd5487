package dev.tfkd.training;

import dev.tfkd.data.io.RecordShards;
import java.util.Objects;

/**
 * Training data read as a stream ({@link RecordShards}: TFRecord, IDX, CIFAR or CSV files) instead of held in memory, and how it is streamed.
 *
 * <p>An epoch is one pass over the data ({@code stepsPerEpoch} 0; the last batch may be short) or {@code
 * stepsPerEpoch} full batches, the stream running on across passes (so a checkpoint after every epoch keeps the
 * position within a pass). The records are drawn through a seeded shuffle buffer ({@link
 * dev.tfkd.data.io.ShuffledRecords}), parsed on {@code parserThreads} background threads and prepared up to the
 * trainer's prefetch depth ahead; the stream's position is part of every checkpoint.
 *
 * @param shards the data
 * @param shuffleBuffer records in the shuffle buffer, at least 1
 * @param stepsPerEpoch steps per epoch, or 0 for one pass
 * @param parserThreads threads parsing records, at least 1
 */
public record TrainStream(RecordShards shards, int shuffleBuffer, int stepsPerEpoch, int parserThreads) {
  /** The shuffle buffer used when none is given. */
  public static final int DEFAULT_SHUFFLE_BUFFER = 8192;

  /** Parser threads used when none are given. */
  public static final int DEFAULT_PARSER_THREADS = 2;

  /** Validates the settings; throws IllegalArgumentException for a value out of range. */
  public TrainStream {
    Objects.requireNonNull(shards, "shards");
    if (shuffleBuffer < 1 || stepsPerEpoch < 0 || parserThreads < 1) {
      throw new IllegalArgumentException(
          "bad stream settings: shuffle buffer " + shuffleBuffer + ", steps per epoch " + stepsPerEpoch
              + ", parser threads " + parserThreads);
    }
  }

  /** {@code shards} with the default buffer and threads, one pass per epoch. */
  public TrainStream(RecordShards shards) {
    this(shards, DEFAULT_SHUFFLE_BUFFER, 0, DEFAULT_PARSER_THREADS);
  }

  /** Examples in one epoch at batch size {@code batch}. */
  long examplesPerEpoch(int batch) {
    return stepsPerEpoch == 0 ? shards.size() : (long) stepsPerEpoch * batch;
  }
}
