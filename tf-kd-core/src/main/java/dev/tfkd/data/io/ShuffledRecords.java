package dev.tfkd.data.io;

import dev.tfkd.data.Splits;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The records of {@link TfRecordShards}, pass after pass without end, in a seeded order that a checkpoint can
 * resume exactly ({@link #position()}).
 *
 * <p>Pass {@code p} reads the shards one after another in an order drawn from {@code SplittableRandom(seed)}'s
 * {@code p}-th split, each in file order, into a shuffle buffer of up to {@code buffer} records; every draw takes
 * a uniformly chosen buffered record (SplitMix64 seeded from {@code seed}, continuing across passes) and moves the
 * last buffered record into its place. The buffer drains at the end of a pass, so a pass holds every record exactly
 * once and passes never mix. Memory: the buffered records' bytes, one shard's read buffer.
 *
 * <p>Not thread-safe: one thread draws at a time. Close it to release the open shard.
 */
public final class ShuffledRecords implements AutoCloseable {
  /**
   * One record's bytes.
   *
   * @param index the record's global index (shards in name order, records in file order)
   * @param offset its byte offset in its shard
   * @param data its data (the tf.Example bytes)
   */
  public record Raw(long index, long offset, byte[] data) {}

  private final TfRecordShards shards;
  private final long seed;
  private final int capacity;
  private final boolean shuffle;
  private final List<Raw> buffer = new ArrayList<>();
  private long pass;
  private int[] shardOrder;
  private int shardCursor;
  private long offset;
  private int record;
  private long drawnInPass;
  private long rng;
  private FileChannel channel;
  private TfRecordReader.Records reader;
  private int openShard = -1;

  ShuffledRecords(TfRecordShards shards, long seed, int buffer, boolean shuffle, StreamPosition from) {
    if (buffer < 1) {
      throw new IllegalArgumentException("the shuffle buffer must hold at least 1 record, got " + buffer);
    }
    this.shards = shards;
    this.seed = seed;
    this.capacity = buffer;
    this.shuffle = shuffle;
    this.rng = seed ^ 0x2545F4914F6CDD1DL;
    startPass(0);
    if (from != null) {
      restore(from);
    }
  }

  /** The next record; passes follow one another without end. */
  public Raw next() {
    fill();
    if (buffer.isEmpty()) {
      startPass(pass + 1);
      fill();
    }
    int j = shuffle ? nextInt(buffer.size()) : 0;
    Raw r = buffer.get(j);
    int last = buffer.size() - 1;
    buffer.set(j, buffer.get(last));
    buffer.remove(last);
    drawnInPass++;
    return r;
  }

  /** The current pass, from 0. */
  public long pass() {
    return pass;
  }

  /** Records drawn in the current pass. */
  public long drawnInPass() {
    return drawnInPass;
  }

  /** The state after the last draw, from which {@link TfRecordShards#records(long, int, StreamPosition)} continues. */
  public StreamPosition position() {
    long[] index = new long[buffer.size()];
    long[] offsets = new long[buffer.size()];
    for (int i = 0; i < buffer.size(); i++) {
      index[i] = buffer.get(i).index();
      offsets[i] = buffer.get(i).offset();
    }
    return new StreamPosition(pass, shardCursor, offset, record, drawnInPass, rng, index, offsets);
  }

  private void startPass(long p) {
    pass = p;
    int n = shards.shards().size();
    if (shuffle) {
      SplittableRandom root = new SplittableRandom(seed ^ 0x5EED5A4D5L);
      SplittableRandom r = root.split();
      for (long i = 0; i < p; i++) {
        r = root.split();
      }
      shardOrder = Splits.permutation(n, r);
    } else {
      shardOrder = new int[n];
      for (int i = 0; i < n; i++) {
        shardOrder[i] = i;
      }
    }
    shardCursor = 0;
    offset = 0;
    record = 0;
    drawnInPass = 0;
    closeShard();
  }

  private void restore(StreamPosition s) {
    if (s.bufferIndex().length > capacity) {
      throw new IllegalArgumentException(
          "the saved stream holds " + s.bufferIndex().length + " buffered records, more than this run's shuffle buffer ("
              + capacity + "): resume with the same shuffle buffer");
    }
    startPass(s.pass());
    shardCursor = s.shardCursor();
    offset = s.offset();
    record = s.record();
    drawnInPass = s.drawnInPass();
    rng = s.rngState();
    for (int i = 0; i < s.bufferIndex().length; i++) {
      buffer.add(readAt(s.bufferIndex()[i], s.bufferOffset()[i]));
    }
  }

  private Raw readAt(long index, long at) {
    int shard = shards.shardOf(index);
    Path f = shards.shards().get(shard);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      int rec = (int) (index - shards.firstIndex(shard));
      byte[] data = TfRecordShards.reader(ch, f, shards.fileSize(shard), at, rec).next();
      if (data == null) {
        throw new DataFormatException(f, "byte " + at, "the saved stream position points past the end of the file");
      }
      return new Raw(index, at, data);
    } catch (IOException e) {
      throw Bytes.cannotRead(f, e);
    }
  }

  private void fill() {
    while (buffer.size() < capacity && shardCursor < shardOrder.length) {
      int shard = shardOrder[shardCursor];
      if (record >= shards.count(shard)) {
        closeShard();
        shardCursor++;
        offset = 0;
        record = 0;
        continue;
      }
      Path f = shards.shards().get(shard);
      try {
        if (openShard != shard) {
          closeShard();
          channel = FileChannel.open(f, StandardOpenOption.READ);
          reader = TfRecordShards.reader(channel, f, shards.fileSize(shard), offset, record);
          openShard = shard;
        }
        long at = reader.offset();
        byte[] data = reader.next();
        if (data == null) {
          throw new DataFormatException(f, "record " + record, "the file ended early: was it changed while the run read it?");
        }
        buffer.add(new Raw(shards.firstIndex(shard) + record, at, data));
        offset = reader.offset();
        record = reader.recordIndex();
      } catch (IOException e) {
        throw Bytes.cannotRead(f, e);
      }
    }
  }

  /** SplitMix64. */
  private long nextLong() {
    long z = (rng += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform in [0, bound) by rejection, so no index is favoured. */
  private int nextInt(int bound) {
    long limit = Long.MAX_VALUE - (Long.MAX_VALUE % bound);
    long v;
    do {
      v = nextLong() >>> 1;
    } while (v >= limit);
    return (int) (v % bound);
  }

  private void closeShard() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Read-only: nothing is lost when closing fails.
      }
      channel = null;
      reader = null;
      openShard = -1;
    }
  }

  /** Releases the open shard. */
  @Override
  public void close() {
    closeShard();
  }
}
