package dev.tfkd.data.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A direct decoder of the common {@code tf.Example} layout (float values, an optional int64 shape, one int64 label)
 * from the record's bytes into the batch's float array, for streamed TFRecord shards: the protobuf classes build a
 * map, a message per feature and a boxed list per record, which costs a small model as much CPU as its training
 * step. It chooses keys exactly as {@link TfRecordReader} does (encoded images first, then floats under {@code
 * image}, {@code features}, {@code x}; shape under {@code shape}, {@code image/shape}; label under {@code label},
 * {@code image/class/label}, {@code y}; a repeated key's last entry wins) and accepts only a subset of what the
 * protobuf parser accepts: well-formed wire data, ASCII keys, each feature of one kind, packed lists. Anything else
 * (an encoded image, a non-finite value, a label or shape out of bounds, any doubt) returns "not decoded", and the
 * caller parses the record with protobuf, which produces the result or the error message. Not thread-safe: one
 * instance per parsing thread.
 */
final class FastExample {
  private static final String[] KEY_NAMES = {
    "image/encoded", "image", "image_raw", "features", "x", "shape", "image/shape", "label", "image/class/label", "y"
  };
  private static final byte[][] KEYS = new byte[KEY_NAMES.length][];
  private static final int[] BYTE_KEYS = {0, 1, 2};
  private static final int[] FLOAT_KEYS = {1, 3, 4};
  private static final int[] SHAPE_KEYS = {5, 6};
  private static final int[] LABEL_KEYS = {7, 8, 9};
  private static final int NONE = 0;
  private static final int BYTES = 1;
  private static final int FLOATS = 2;
  private static final int INT64S = 3;

  static {
    for (int i = 0; i < KEYS.length; i++) {
      KEYS[i] = KEY_NAMES[i].getBytes(StandardCharsets.US_ASCII);
    }
  }

  /** Thrown (never filled in) when the record leaves the subset this decoder handles. */
  private static final class Fallback extends Exception {
    private static final long serialVersionUID = 1L;

    Fallback() {
      super(null, null, false, false);
    }
  }

  private static final Fallback FALLBACK = new Fallback();

  // Per known key: the kind of its (last) feature and the bounds of that feature's packed list.
  private final int[] kind = new int[KEYS.length];
  private final int[] start = new int[KEYS.length];
  private final int[] end = new int[KEYS.length];
  private final long[] shape = new long[8];
  private byte[] b;
  private int pos;

  /**
   * Decodes {@code data[from .. from + length)} into {@code x[at .. at + size)} when it is an example of exactly
   * {@code expectedShape} with a label in [0, {@code numClasses}).
   *
   * @return the label, or -1 when the record is not decoded here (parse it with protobuf)
   */
  int decode(byte[] data, int from, int length, long[] expectedShape, int size, int numClasses, float[] x, int at) {
    try {
      return decodeOrFallback(data, from, length, expectedShape, size, numClasses, x, at);
    } catch (Fallback e) {
      return -1;
    }
  }

  private int decodeOrFallback(
      byte[] data, int from, int length, long[] expectedShape, int size, int numClasses, float[] x, int at)
      throws Fallback {
    b = data;
    pos = from;
    Arrays.fill(kind, NONE);
    int limit = from + length;
    boolean features = false;
    while (pos < limit) {
      // Example: only field 1 (Features), once.
      if (varint(limit) != ((1 << 3) | 2) || features) {
        throw FALLBACK;
      }
      features = true;
      int len = length(limit);
      features(pos, pos + len);
    }
    for (int k : BYTE_KEYS) {
      if (kind[k] == BYTES) {
        throw FALLBACK;
      }
    }
    int values = -1;
    for (int k : FLOAT_KEYS) {
      if (kind[k] == FLOATS) {
        values = k;
        break;
      }
    }
    if (values < 0) {
      throw FALLBACK;
    }
    int n = (end[values] - start[values]) / 4;
    if (n != size) {
      throw FALLBACK;
    }
    int dims = 0;
    boolean shaped = false;
    for (int k : SHAPE_KEYS) {
      if (kind[k] == INT64S) {
        shaped = true;
        pos = start[k];
        while (pos < end[k]) {
          if (dims == shape.length) {
            throw FALLBACK;
          }
          shape[dims++] = (long) varint(end[k]);
        }
        break;
      }
    }
    if (shaped) {
      if (dims != expectedShape.length) {
        throw FALLBACK;
      }
      for (int i = 0; i < dims; i++) {
        if (shape[i] != expectedShape[i]) {
          throw FALLBACK;
        }
      }
    } else if (expectedShape.length != 1 || expectedShape[0] != n) {
      throw FALLBACK;
    }
    long label = -1;
    for (int k : LABEL_KEYS) {
      if (kind[k] == INT64S) {
        pos = start[k];
        label = varint(end[k]);
        if (pos != end[k]) {
          // More than one value: the protobuf path names the problem.
          throw FALLBACK;
        }
        break;
      }
    }
    if (label < 0 || label >= numClasses || label >= Labels.MAX_CLASSES) {
      throw FALLBACK;
    }
    ByteBuffer.wrap(b, start[values], 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x, at, n);
    for (int i = at; i < at + n; i++) {
      if (!Float.isFinite(x[i])) {
        throw FALLBACK;
      }
    }
    return (int) label;
  }

  /** Features: map entries (field 1), each a key (field 1) and a Feature (field 2). */
  private void features(int from, int limit) throws Fallback {
    pos = from;
    while (pos < limit) {
      if (varint(limit) != ((1 << 3) | 2)) {
        throw FALLBACK;
      }
      int entryLength = length(limit);
      int entryEnd = pos + entryLength;
      int key = -1;
      boolean hasKey = false;
      boolean hasValue = false;
      int featureKind = NONE;
      int listStart = 0;
      int listEnd = 0;
      while (pos < entryEnd) {
        long tag = varint(entryEnd);
        int len = length(entryEnd);
        int fieldEnd = pos + len;
        if (tag == ((1 << 3) | 2) && !hasKey) {
          hasKey = true;
          key = key(pos, fieldEnd);
          pos = fieldEnd;
        } else if (tag == ((2 << 3) | 2) && !hasValue) {
          hasValue = true;
          // Feature: exactly one kind field (bytes_list 1, float_list 2, int64_list 3), or none.
          if (pos < fieldEnd) {
            long kindTag = varint(fieldEnd);
            int kindLen = length(fieldEnd);
            int kindEnd = pos + kindLen;
            if (kindEnd != fieldEnd || (kindTag & 7) != 2 || kindTag >>> 3 < 1 || kindTag >>> 3 > 3) {
              throw FALLBACK;
            }
            featureKind = (int) (kindTag >>> 3);
            int[] bounds = list(featureKind, pos, kindEnd);
            listStart = bounds == null ? pos : bounds[0];
            listEnd = bounds == null ? pos : bounds[1];
          }
          pos = fieldEnd;
        } else {
          throw FALLBACK;
        }
      }
      if (key >= 0) {
        // A repeated key: the last entry wins, as in the protobuf map.
        kind[key] = featureKind;
        start[key] = listStart;
        end[key] = listEnd;
      }
    }
  }

  private final int[] bounds = new int[2];

  /** Checks a list's wire data; returns the bounds of its one packed field (null when the list is empty). */
  private int[] list(int kindOfList, int from, int limit) throws Fallback {
    pos = from;
    boolean packed = false;
    while (pos < limit) {
      long tag = varint(limit);
      if (tag != ((1 << 3) | 2)) {
        throw FALLBACK;
      }
      int len = length(limit);
      int fieldEnd = pos + len;
      if (kindOfList == BYTES) {
        pos = fieldEnd;
        continue;
      }
      if (packed) {
        throw FALLBACK;
      }
      packed = true;
      bounds[0] = pos;
      bounds[1] = fieldEnd;
      if (kindOfList == FLOATS) {
        if (len % 4 != 0) {
          throw FALLBACK;
        }
        pos = fieldEnd;
      } else {
        while (pos < fieldEnd) {
          varint(fieldEnd);
        }
      }
    }
    return packed ? bounds : null;
  }

  /** The index of a known key, or -1 for another ASCII key (a non-ASCII key goes to protobuf's UTF-8 check). */
  private int key(int from, int limit) throws Fallback {
    int len = limit - from;
    for (int i = from; i < limit; i++) {
      if (b[i] < 0) {
        throw FALLBACK;
      }
    }
    for (int k = 0; k < KEYS.length; k++) {
      if (KEYS[k].length == len && Arrays.equals(KEYS[k], 0, len, b, from, limit)) {
        return k;
      }
    }
    return -1;
  }

  private int length(int limit) throws Fallback {
    long len = varint(limit);
    if (len < 0 || len > limit - pos) {
      throw FALLBACK;
    }
    return (int) len;
  }

  private long varint(int limit) throws Fallback {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= limit) {
        throw FALLBACK;
      }
      byte x = b[pos++];
      v |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        return v;
      }
    }
    throw FALLBACK;
  }
}
