package dev.tfkd.data.io;

import dev.tfkd.data.Splits;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The records of {@link RecordShards} (TFRecord, IDX, CIFAR or CSV), pass after pass without end, in a seeded order that a checkpoint can
 * resume exactly ({@link #position()}).
 *
 * <p>Pass {@code p} reads the shards one after another in an order drawn from {@code SplittableRandom(seed)}'s
 * {@code p}-th split, each in file order, into a shuffle buffer of up to {@code buffer} records; every draw takes
 * a uniformly chosen buffered record (SplitMix64 seeded from {@code seed}, continuing across passes) and moves the
 * last buffered record into its place. The buffer drains at the end of a pass, so a pass holds every record exactly
 * once and passes never mix. Memory: the buffered records' bytes, one shard's read buffer. The buffer is a fixed set
 * of byte arrays, one per slot, reused from record to record, so drawing makes no garbage per record (records that
 * outlive the young generation would otherwise be copied and promoted by every collection).
 *
 * <p>Not thread-safe: one thread draws at a time. Close it to release the open shard.
 */
public final class ShuffledRecords implements AutoCloseable {
  /**
   * One record's bytes.
   *
   * @param index the record's global index (shards in name order, records in file order)
   * @param offset its byte offset in its shard
   * @param data its data (for TFRecord, the tf.Example bytes)
   */
  public record Raw(long index, long offset, byte[] data) {}

  private final RecordShards shards;
  private final long seed;
  private final int capacity;
  private final boolean shuffle;
  // The shuffle buffer: slot i holds data[i][0 .. length[i]), drawn by swapping slots, never copying bytes.
  private final byte[][] data;
  private final int[] length;
  private final long[] index;
  private final long[] offsets;
  private int buffered;
  private long pass;
  private int[] shardOrder;
  private int shardCursor;
  private long offset;
  private int record;
  private long drawnInPass;
  private long rng;
  private RecordShards.Cursor reader;
  private int openShard = -1;

  ShuffledRecords(RecordShards shards, long seed, int buffer, boolean shuffle, StreamPosition from) {
    if (buffer < 1) {
      throw new IllegalArgumentException("the shuffle buffer must hold at least 1 record, got " + buffer);
    }
    this.shards = shards;
    this.seed = seed;
    this.capacity = buffer;
    this.shuffle = shuffle;
    this.data = new byte[buffer][];
    this.length = new int[buffer];
    this.index = new long[buffer];
    this.offsets = new long[buffer];
    this.rng = seed ^ 0x2545F4914F6CDD1DL;
    startPass(0);
    if (from != null) {
      restore(from);
    }
  }

  /** The next record, in a new array; passes follow one another without end. */
  public Raw next() {
    int j = draw();
    Raw r = new Raw(index[j], offsets[j], Arrays.copyOf(data[j], length[j]));
    remove(j);
    return r;
  }

  /** Appends the next record to {@code batch} (no allocation once the batch's arrays have grown). */
  public void next(RawBatch batch) {
    int j = draw();
    batch.add(index[j], offsets[j], data[j], length[j]);
    remove(j);
  }

  /** Picks the slot of the next record. */
  private int draw() {
    fill();
    if (buffered == 0) {
      startPass(pass + 1);
      fill();
    }
    return shuffle ? nextInt(buffered) : 0;
  }

  /** Moves the last buffered record into slot {@code j}, keeping the emptied slot's array for reuse. */
  private void remove(int j) {
    int last = buffered - 1;
    if (j != last) {
      byte[] d = data[j];
      data[j] = data[last];
      data[last] = d;
      length[j] = length[last];
      index[j] = index[last];
      offsets[j] = offsets[last];
    }
    buffered--;
    drawnInPass++;
  }

  /** The current pass, from 0. */
  public long pass() {
    return pass;
  }

  /** Records drawn in the current pass. */
  public long drawnInPass() {
    return drawnInPass;
  }

  /** The state after the last draw, from which {@link RecordShards#records(long, int, StreamPosition)} continues. */
  public StreamPosition position() {
    return new StreamPosition(
        pass, shardCursor, offset, record, drawnInPass, rng, Arrays.copyOf(index, buffered), Arrays.copyOf(offsets, buffered));
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
      readAt(i, s.bufferIndex()[i], s.bufferOffset()[i]);
    }
    buffered = s.bufferIndex().length;
  }

  private void readAt(int slot, long at, long byteOffset) {
    int shard = shards.shardOf(at);
    Path f = shards.shards().get(shard);
    if (at < 0 || at >= shards.size()) {
      throw new DataFormatException(f, "byte " + byteOffset, "the saved stream position names record " + at + " of " + shards.size());
    }
    int rec = (int) (at - shards.firstIndex(shard));
    try (RecordShards.Cursor c = shards.cursor(shard, byteOffset, rec)) {
      byte[] d = c.next(data[slot]);
      if (d == null) {
        throw new DataFormatException(f, "byte " + byteOffset, "the saved stream position points past the end of the file");
      }
      data[slot] = d;
      length[slot] = c.length();
      index[slot] = at;
      offsets[slot] = byteOffset;
    } catch (IOException e) {
      throw Bytes.cannotRead(f, e);
    }
  }

  private void fill() {
    while (buffered < capacity && shardCursor < shardOrder.length) {
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
          reader = shards.cursor(shard, offset, record);
          openShard = shard;
        }
        long at = reader.offset();
        byte[] d = reader.next(data[buffered]);
        if (d == null) {
          throw new DataFormatException(f, "record " + record, "the file ended early: was it changed while the run read it?");
        }
        data[buffered] = d;
        length[buffered] = reader.length();
        index[buffered] = shards.firstIndex(shard) + record;
        offsets[buffered] = at;
        buffered++;
        offset = reader.offset();
        record = reader.record();
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
    if (reader != null) {
      reader.close();
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
