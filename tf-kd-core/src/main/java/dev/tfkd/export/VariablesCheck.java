package dev.tfkd.export;

import dev.tfkd.io.TfRecord;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.Checksum;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Checks a SavedModel's {@code variables/} directory the way TensorFlow's checkpoint reader ({@code BundleReader})
 * would while restoring it, without running anything: the index ({@code variables.index}, a LevelDB-format table
 * of {@code BundleEntryProto} by tensor name, with a {@code BundleHeaderProto} under the empty key) is parsed with
 * its block checksums; the data shards present must be exactly {@code variables.data-%05d-of-%05d} for every shard
 * the header counts; and every entry's bytes (shard, offset, size) must lie inside its shard, have the size its dtype
 * and shape require, and match the entry's masked CRC32C. A model failing here fails to load in TensorFlow ("Read
 * less bytes than requested", "Checksum does not match", "not found in checkpoint").
 *
 * <p>Table layout (LevelDB's, as TensorFlow's {@code tensorflow/core/lib/io/table} writes it): a 48-byte footer (two
 * block handles, padding, magic {@code 0xdb4775248b80fb57}); each block followed by a compression byte and the
 * masked CRC32C of block plus that byte; entries with prefix-compressed keys; an index block mapping the last key
 * of each data block to its handle.
 */
final class VariablesCheck {
  private VariablesCheck() {}

  /** The index file, relative to the SavedModel directory. */
  static final String INDEX = "variables/variables.index";

  private static final long TABLE_MAGIC = 0xdb4775248b80fb57L;
  private static final int FOOTER = 48;
  private static final Pattern DATA = Pattern.compile("variables\\.data-([0-9]{5})-of-([0-9]{5})");
  /** TensorFlow refuses a checkpoint with more shards; also bounds the work for a hostile header. */
  private static final int MAX_SHARDS = 100_000;

  /**
   * The problems of {@code savedModelDir/variables}, each naming the file (relative to {@code savedModelDir}) and
   * what is wrong; empty when TensorFlow
   * would restore from it. A missing index is not reported here (a model without variables has none).
   */
  static List<String> check(Path savedModelDir) throws IOException {
    List<String> problems = new ArrayList<>();
    Path index = savedModelDir.resolve(INDEX);
    if (!Files.isRegularFile(index, LinkOption.NOFOLLOW_LINKS)) {
      return problems;
    }
    Map<String, byte[]> entries;
    try {
      entries = readTable(Files.readAllBytes(index));
    } catch (IllegalArgumentException e) {
      problems.add(INDEX + ": not a readable checkpoint index (" + e.getMessage() + ")");
      return problems;
    }
    byte[] headerBytes = entries.remove("");
    if (headerBytes == null) {
      problems.add(INDEX + ": no bundle header (the entry with the empty key)");
      return problems;
    }
    BundleHeaderProto header;
    try {
      header = BundleHeaderProto.parseFrom(headerBytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      problems.add(INDEX + ": the bundle header is not a BundleHeaderProto (" + e.getMessage() + ")");
      return problems;
    }
    int shards = header.getNumShards();
    if (shards < 1 || shards > MAX_SHARDS) {
      problems.add(INDEX + ": the header counts " + shards + " data shards");
      return problems;
    }
    if (header.getEndianness() != BundleHeaderProto.Endianness.LITTLE) {
      problems.add(INDEX + ": big-endian checkpoint; TensorFlow on this platform reads little-endian ones");
    }
    long[] sizes = shardSizes(savedModelDir.resolve("variables"), shards, problems);
    FileChannel[] open = new FileChannel[shards];
    try {
      for (var e : entries.entrySet()) {
        checkEntry(savedModelDir.resolve("variables"), e.getKey(), e.getValue(), shards, sizes, open, problems);
        if (problems.size() >= 20) {
          problems.add("(further problems not listed)");
          break;
        }
      }
    } finally {
      for (FileChannel c : open) {
        if (c != null) {
          c.close();
        }
      }
    }
    return problems;
  }

  /** The size of every shard {@code variables.data-i-of-shards}; -1 for a missing one, which is reported. */
  private static long[] shardSizes(Path variables, int shards, List<String> problems) throws IOException {
    long[] sizes = new long[shards];
    Arrays.fill(sizes, -1);
    List<String> strays = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(variables, "variables.data-*")) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        Matcher m = DATA.matcher(name);
        if (m.matches() && Integer.parseInt(m.group(2)) == shards && Integer.parseInt(m.group(1)) < shards
            && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
          sizes[Integer.parseInt(m.group(1))] = Files.size(f);
        } else {
          strays.add(name);
        }
      }
    }
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < shards; i++) {
      if (sizes[i] < 0) {
        missing.add(dataName(i, shards));
      }
    }
    if (!missing.isEmpty()) {
      problems.add("variables/: the index counts " + shards + " data shard" + (shards == 1 ? "" : "s") + " but "
          + missing + " " + (missing.size() == 1 ? "is" : "are") + " missing" + (strays.isEmpty() ? "" : " (found " + strays + ")"));
    } else if (!strays.isEmpty()) {
      problems.add("variables/: data files " + strays + " do not belong to the index's " + shards + " shard"
          + (shards == 1 ? "" : "s"));
    }
    return sizes;
  }

  static String dataName(int shard, int shards) {
    return String.format(java.util.Locale.ROOT, "variables.data-%05d-of-%05d", shard, shards);
  }

  private static void checkEntry(
      Path variables, String key, byte[] value, int shards, long[] sizes, FileChannel[] open, List<String> problems)
      throws IOException {
    String where = INDEX + ": tensor '" + key + "'";
    BundleEntryProto e;
    try {
      e = BundleEntryProto.parseFrom(value);
    } catch (com.google.protobuf.InvalidProtocolBufferException x) {
      problems.add(where + ": not a BundleEntryProto (" + x.getMessage() + ")");
      return;
    }
    if (e.getSlicesCount() > 0) {
      // A partitioned tensor's own entry holds no bytes; its slices are entries of their own.
      return;
    }
    if (e.getShardId() < 0 || e.getShardId() >= shards) {
      problems.add(where + ": shard " + e.getShardId() + " of " + shards);
      return;
    }
    long expected = byteSize(e.getDtype(), e.getShape());
    if (e.getOffset() < 0 || e.getSize() < 0 || (expected >= 0 && e.getSize() != expected)) {
      problems.add(where + ": " + e.getSize() + " bytes at offset " + e.getOffset() + "; a " + e.getDtype() + " "
          + Inspection.shape(e.getShape()) + " tensor has " + expected);
      return;
    }
    long shardSize = sizes[e.getShardId()];
    if (shardSize < 0) {
      return; // reported with the file names
    }
    String data = dataName(e.getShardId(), shards);
    if (e.getOffset() + e.getSize() > shardSize) {
      problems.add(where + ": bytes [" + e.getOffset() + ", " + (e.getOffset() + e.getSize()) + ") lie beyond the end of "
          + data + " (" + shardSize + " bytes; truncated?)");
      return;
    }
    if (open[e.getShardId()] == null) {
      open[e.getShardId()] = FileChannel.open(variables.resolve(data));
    }
    int crc;
    if (e.getDtype() == DataType.DT_STRING) {
      String problem = null;
      crc = 0;
      try {
        crc = stringCrc32c(open[e.getShardId()], e.getOffset(), e.getSize(), elements(e.getShape()));
      } catch (IllegalArgumentException x) {
        problem = x.getMessage();
      }
      if (problem != null) {
        problems.add(where + ": a damaged string tensor in " + data + " at offset " + e.getOffset() + " (" + problem + ")");
        return;
      }
    } else if (fixedSize(e.getDtype()) > 0) {
      crc = crc32c(open[e.getShardId()], e.getOffset(), e.getSize());
    } else {
      return; // variants and resources frame their bytes differently; their bounds were checked
    }
    if (mask(crc) != e.getCrc32C()) {
      problems.add(where + ": its " + e.getSize() + " bytes in " + data + " at offset " + e.getOffset()
          + " do not match the index's CRC32C (the data file is damaged or belongs to another index)");
    }
  }

  private static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
  }

  private static long elements(TensorShapeProto shape) {
    long n = 1;
    for (TensorShapeProto.Dim d : shape.getDimList()) {
      n = Math.multiplyExact(n, Math.max(0, d.getSize()));
    }
    return n;
  }

  /**
   * The CRC32C TensorFlow's {@code WriteStringTensor} records for a string tensor of {@code n} elements stored as
   * varint64 lengths, the masked CRC32C of the lengths, then the bytes: the CRC runs over each length as a
   * little-endian uint32 (uint64 above 2^32 - 1; not as the varint written), the 4 length-checksum bytes, and the
   * string bytes.
   */
  private static int stringCrc32c(FileChannel c, long offset, long size, long n) throws IOException {
    if (size > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("a string tensor of " + size + " bytes");
    }
    ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      if (c.read(b, offset + b.position()) < 0) {
        throw new IllegalArgumentException("unexpected end of file");
      }
    }
    b.flip();
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    long total = 0;
    for (long i = 0; i < n; i++) {
      long l = varint(b);
      total += l;
      // Lengths up to 2^32 - 1 enter as uint32 (older checkpoints stored only those), longer ones as uint64.
      if (l >= 0 && l <= 0xffffffffL) {
        crc.update(len.clear().putInt((int) l).array(), 0, 4);
      } else {
        crc.update(len.clear().putLong(l).array(), 0, 8);
      }
    }
    if (b.remaining() < 4) {
      throw new IllegalArgumentException("no length checksum");
    }
    int lengthChecksum = b.getInt();
    if (lengthChecksum != mask((int) crc.getValue())) {
      throw new IllegalArgumentException("the lengths' checksum does not match");
    }
    crc.update(len.clear().putInt(lengthChecksum).array(), 0, 4);
    if (total != b.remaining()) {
      throw new IllegalArgumentException("the lengths add up to " + total + " bytes, " + b.remaining() + " follow");
    }
    crc.update(b);
    return (int) crc.getValue();
  }

  private static int crc32c(FileChannel c, long offset, long size) throws IOException {
    Checksum crc = new java.util.zip.CRC32C();
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(1 << 20, Math.max(1, size)));
    long pos = offset;
    long end = offset + size;
    while (pos < end) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), end - pos));
      int n = c.read(buf, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
      crc.update(buf.array(), 0, n);
      pos += n;
    }
    return (int) crc.getValue();
  }

  /** Bytes of a tensor of fixed-size {@code dtype} and known {@code shape}; -1 when variable (strings) or unknown. */
  static long byteSize(DataType dtype, TensorShapeProto shape) {
    int each = fixedSize(dtype);
    if (each < 0 || shape.getUnknownRank()) {
      return -1;
    }
    long n = 1;
    for (TensorShapeProto.Dim d : shape.getDimList()) {
      if (d.getSize() < 0) {
        return -1;
      }
      n = Math.multiplyExact(n, d.getSize());
    }
    return Math.multiplyExact(n, each);
  }

  /** Bytes per element of a fixed-size dtype, -1 for strings, variants, resources and unknown types. */
  static int fixedSize(DataType t) {
    return switch (t) {
      case DT_FLOAT, DT_INT32, DT_UINT32, DT_QINT32 -> 4;
      case DT_DOUBLE, DT_INT64, DT_UINT64, DT_COMPLEX64 -> 8;
      case DT_HALF, DT_BFLOAT16, DT_INT16, DT_UINT16, DT_QINT16, DT_QUINT16 -> 2;
      case DT_INT8, DT_UINT8, DT_BOOL, DT_QINT8, DT_QUINT8 -> 1;
      case DT_COMPLEX128 -> 16;
      default -> -1;
    };
  }

  /**
   * Every key and value of a LevelDB-format table, in key order; IllegalArgumentException naming what is wrong for
   * a damaged one (bad magic, block out of bounds, block checksum, compressed block, keys out of order).
   */
  static Map<String, byte[]> readTable(byte[] file) {
    if (file.length < FOOTER) {
      throw new IllegalArgumentException(file.length + " bytes, shorter than a table footer");
    }
    ByteBuffer footer = ByteBuffer.wrap(file, file.length - FOOTER, FOOTER).order(ByteOrder.LITTLE_ENDIAN);
    if (ByteBuffer.wrap(file, file.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() != TABLE_MAGIC) {
      throw new IllegalArgumentException("no table magic number at the end (truncated or not an index)");
    }
    varint(footer); // metaindex offset
    varint(footer); // metaindex size
    long indexOffset = varint(footer);
    long indexSize = varint(footer);
    Map<String, byte[]> out = new TreeMap<>();
    byte[] last = null;
    for (Map.Entry<byte[], byte[]> handle : block(file, indexOffset, indexSize, "index block")) {
      ByteBuffer h = ByteBuffer.wrap(handle.getValue());
      long offset = varint(h);
      long size = varint(h);
      for (Map.Entry<byte[], byte[]> kv : block(file, offset, size, "data block at " + offset)) {
        String key = new String(kv.getKey(), java.nio.charset.StandardCharsets.UTF_8);
        // Lookups are binary searches in byte order: an out-of-order table hides tensors from the loader.
        if (last != null && Arrays.compareUnsigned(kv.getKey(), last) <= 0) {
          throw new IllegalArgumentException("keys out of order at '" + key + "'");
        }
        last = kv.getKey();
        out.put(key, kv.getValue());
      }
    }
    return out;
  }

  /** The entries of the block at {@code [offset, offset + size)}, after checking its trailer. */
  private static List<Map.Entry<byte[], byte[]>> block(byte[] file, long offset, long size, String what) {
    if (offset < 0 || size < 4 || offset + size + 5 > file.length - FOOTER) {
      throw new IllegalArgumentException(what + ": out of the file's bounds");
    }
    int start = (int) offset;
    int n = (int) size;
    int type = file[start + n] & 0xff;
    int stored = ByteBuffer.wrap(file, start + n + 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if (stored != TfRecord.maskedCrc32c(file, start, n + 1)) {
      throw new IllegalArgumentException(what + ": block checksum mismatch");
    }
    byte[] contents;
    if (type == 0) {
      contents = Arrays.copyOfRange(file, start, start + n);
    } else if (type == 1) {
      // Older TensorFlow versions wrote Snappy-compressed index blocks.
      contents = snappy(file, start, n, what);
    } else {
      throw new IllegalArgumentException(what + ": unknown compression type " + type);
    }
    start = 0;
    n = contents.length;
    if (n < 4) {
      throw new IllegalArgumentException(what + ": shorter than its restart count");
    }
    ByteBuffer b = ByteBuffer.wrap(contents).order(ByteOrder.LITTLE_ENDIAN);
    int restarts = b.getInt(start + n - 4);
    long entriesEnd = (long) n - 4 - 4L * restarts;
    if (restarts < 0 || entriesEnd < 0) {
      throw new IllegalArgumentException(what + ": bad restart count " + restarts);
    }
    List<Map.Entry<byte[], byte[]>> out = new ArrayList<>();
    byte[] key = new byte[0];
    while (b.position() - start < entriesEnd) {
      long shared = varint(b);
      long nonShared = varint(b);
      long valueLength = varint(b);
      if (shared < 0 || nonShared < 0 || valueLength < 0 || shared > key.length
          || nonShared + valueLength > start + entriesEnd - b.position()) {
        throw new IllegalArgumentException(what + ": damaged entry");
      }
      byte[] k = Arrays.copyOf(key, (int) (shared + nonShared));
      b.get(k, (int) shared, (int) nonShared);
      byte[] v = new byte[(int) valueLength];
      b.get(v);
      key = k;
      out.add(Map.entry(k, v));
    }
    return out;
  }

  /** Decompresses a Snappy block (raw format: varint length, then literals and back-references). */
  static byte[] snappy(byte[] in, int start, int n, String what) {
    ByteBuffer b = ByteBuffer.wrap(in, start, n).order(ByteOrder.LITTLE_ENDIAN);
    long length = varint(b);
    if (length < 0 || length > 64L * n + 64) {
      throw new IllegalArgumentException(what + ": Snappy length " + length + " out of bounds");
    }
    byte[] out = new byte[(int) length];
    int pos = 0;
    while (b.hasRemaining()) {
      int tag = b.get() & 0xff;
      int len;
      int offset;
      switch (tag & 3) {
        case 0 -> {
          len = tag >>> 2;
          if (len >= 60) {
            int bytes = len - 59;
            if (b.remaining() < bytes) {
              throw new IllegalArgumentException(what + ": truncated Snappy literal");
            }
            len = 0;
            for (int i = 0; i < bytes; i++) {
              len |= (b.get() & 0xff) << (8 * i);
            }
          }
          len += 1;
          if (len <= 0 || len > b.remaining() || len > out.length - pos) {
            throw new IllegalArgumentException(what + ": damaged Snappy literal");
          }
          b.get(out, pos, len);
          pos += len;
          continue;
        }
        case 1 -> {
          len = ((tag >>> 2) & 7) + 4;
          if (!b.hasRemaining()) {
            throw new IllegalArgumentException(what + ": truncated Snappy copy");
          }
          offset = ((tag >>> 5) << 8) | (b.get() & 0xff);
        }
        case 2 -> {
          len = (tag >>> 2) + 1;
          if (b.remaining() < 2) {
            throw new IllegalArgumentException(what + ": truncated Snappy copy");
          }
          offset = b.getShort() & 0xffff;
        }
        default -> {
          len = (tag >>> 2) + 1;
          if (b.remaining() < 4) {
            throw new IllegalArgumentException(what + ": truncated Snappy copy");
          }
          offset = b.getInt();
        }
      }
      if (offset <= 0 || offset > pos || len > out.length - pos) {
        throw new IllegalArgumentException(what + ": damaged Snappy copy");
      }
      // Copies may overlap their own output (a run): byte by byte.
      for (int i = 0; i < len; i++, pos++) {
        out[pos] = out[pos - offset];
      }
    }
    if (pos != out.length) {
      throw new IllegalArgumentException(what + ": Snappy data ends after " + pos + " of " + out.length + " bytes");
    }
    return out;
  }

  private static long varint(ByteBuffer b) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!b.hasRemaining()) {
        throw new IllegalArgumentException("truncated varint");
      }
      byte x = b.get();
      v |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        return v;
      }
    }
    throw new IllegalArgumentException("varint longer than 10 bytes");
  }
}
