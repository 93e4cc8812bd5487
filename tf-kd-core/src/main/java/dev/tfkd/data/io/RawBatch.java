package dev.tfkd.data.io;

import java.util.Arrays;

/**
 * Records drawn from a {@link ShuffledRecords} stream, their bytes packed one after another in one reusable array:
 * a batch handed from the reading thread to a parsing thread without an object or an array per record. {@link
 * #clear()} makes it ready for the next batch; its arrays grow to the largest batch seen and are then reused, so a
 * stream that recycles its batches makes no garbage per record. Not thread-safe: one thread at a time.
 */
public final class RawBatch {
  private byte[] data = new byte[1 << 16];
  private int used;
  private int size;
  private int[] start = new int[64];
  private int[] length = new int[64];
  private long[] index = new long[64];
  private long[] offset = new long[64];

  /** An empty batch. */
  public RawBatch() {}

  /** Forgets the records, keeping the arrays. */
  public void clear() {
    used = 0;
    size = 0;
  }

  /** Records in the batch. */
  public int size() {
    return size;
  }

  /** The global index of record {@code i}. */
  public long index(int i) {
    return index[i];
  }

  /** The byte offset of record {@code i} in its shard. */
  public long offset(int i) {
    return offset[i];
  }

  byte[] data() {
    return data;
  }

  int start(int i) {
    return start[i];
  }

  int length(int i) {
    return length[i];
  }

  /** Appends a record's bytes {@code src[0 .. n)}. */
  void add(long recordIndex, long recordOffset, byte[] src, int n) {
    if (size == start.length) {
      int cap = size * 2;
      start = Arrays.copyOf(start, cap);
      length = Arrays.copyOf(length, cap);
      index = Arrays.copyOf(index, cap);
      offset = Arrays.copyOf(offset, cap);
    }
    if (used + n > data.length) {
      data = Arrays.copyOf(data, Math.max(used + n, (int) Math.min(Integer.MAX_VALUE - 16, 2L * data.length)));
    }
    System.arraycopy(src, 0, data, used, n);
    start[size] = used;
    length[size] = n;
    index[size] = recordIndex;
    offset[size] = recordOffset;
    used += n;
    size++;
  }
}
