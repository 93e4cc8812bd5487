package dev.tfkd.data.io;

import java.util.Objects;

/**
 * Where a {@link ShuffledRecords} stream stands: enough to continue it exactly, as a checkpoint keeps it.
 *
 * <p>A stream visits the shards pass after pass, each pass in its own seeded shard order, and draws every record
 * through a shuffle buffer. Its state is the pass, the position in the pass's shard order, the byte offset and
 * record index in the current shard, the examples already drawn in the pass, the shuffle generator's state and
 * the records in the buffer, in buffer order, by global index and byte offset (their bytes are read again from the
 * shards on restore, so the state is a few bytes per buffered record however large the records are).
 *
 * @param pass the pass over the data, from 0
 * @param shardCursor the position in the pass's shard order of the shard being read
 * @param offset the byte offset of the next record in that shard
 * @param record the index within that shard of the next record
 * @param drawnInPass records drawn from the buffer in this pass
 * @param rngState the shuffle generator's state (SplitMix64)
 * @param bufferIndex global indices of the buffered records
 * @param bufferOffset byte offsets of the buffered records in their shards
 */
public record StreamPosition(
    long pass,
    int shardCursor,
    long offset,
    int record,
    long drawnInPass,
    long rngState,
    long[] bufferIndex,
    long[] bufferOffset) {
  /** Validates the position; throws IllegalArgumentException for negative counters or unequal buffer arrays. */
  public StreamPosition {
    Objects.requireNonNull(bufferIndex, "bufferIndex");
    Objects.requireNonNull(bufferOffset, "bufferOffset");
    if (pass < 0 || shardCursor < 0 || offset < 0 || record < 0 || drawnInPass < 0
        || bufferIndex.length != bufferOffset.length) {
      throw new IllegalArgumentException(
          "bad stream position: pass " + pass + ", shard " + shardCursor + ", offset " + offset + ", record " + record
              + ", drawn " + drawnInPass + ", buffer " + bufferIndex.length + "/" + bufferOffset.length);
    }
  }
}
