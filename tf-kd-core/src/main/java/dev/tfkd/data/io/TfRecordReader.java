package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.Examples;
import dev.tfkd.io.TfRecord;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;

/**
 * Reads a TFRecord file of {@code tf.Example} protos (uncompressed) into a dataset, checking every record's CRCs.
 *
 * <p>Each example holds an image and an int64 label. The image is either encoded bytes (PNG, JPEG) under
 * {@code image/encoded}, {@code image} or {@code image_raw}, or float features under {@code image}, {@code features}
 * or {@code x}, shaped by an optional int64 {@code shape} (or {@code image/shape}), e.g. {@code [28, 28, 1]}, and
 * flat otherwise. The label is one int64 under {@code label}, {@code image/class/label} or {@code y}. Every example
 * must have the same shape; a missing key, a label out of range or an undecodable image names its record.
 */
public final class TfRecordReader {
  private TfRecordReader() {}

  private static final List<String> BYTE_KEYS = List.of("image/encoded", "image", "image_raw");
  private static final List<String> FLOAT_KEYS = List.of("image", "features", "x");
  private static final List<String> SHAPE_KEYS = List.of("shape", "image/shape");
  private static final List<String> LABEL_KEYS = List.of("label", "image/class/label", "y");

  /** Whether {@code name} has a TFRecord extension. */
  public static boolean isTfRecordName(String name) {
    String n = name.toLowerCase(java.util.Locale.ROOT);
    return n.endsWith(".tfrecord") || n.endsWith(".tfrecords") || n.endsWith(".tfr");
  }

  /**
   * Reads {@code file}.
   *
   * @param numClasses the class count, or 0 to use the largest label plus one
   */
  public static Dataset read(Path file, int numClasses) {
    Examples e = read(file, numClasses, false);
    int max = -1;
    for (int l : e.labels()) {
      max = Math.max(max, l);
    }
    return new Dataset(e.name(), e.features(), e.labels(), e.exampleShape(), numClasses > 0 ? numClasses : max + 1, null);
  }

  /**
   * Reads {@code file} for prediction: records may all carry a label or all carry none (e.g. the {@code tf.Example}s
   * of TensorFlow Serving's Classify API, with only the feature {@code x}).
   *
   * @return the examples, with labels when the records have them
   */
  public static Examples readExamples(Path file) {
    return read(file, 0, true);
  }

  private static Examples read(Path file, int numClasses, boolean labelsOptional) {
    if (Bytes.isGzip(file)) {
      throw new DataFormatException(file, "byte 0", "gzip-compressed TFRecord files are not supported; decompress it first");
    }
    List<float[]> xs = new ArrayList<>();
    List<Integer> ys = new ArrayList<>();
    long[] shape = null;
    long values = 0;
    Boolean labelled = null;
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      Records r = new Records(in, file, Files.size(file));
      byte[] data;
      while (true) {
        int index = r.recordIndex();
        data = r.next();
        if (data == null) {
          break;
        }
        String place = "record " + index;
        Sample s = parse(file, place, data, numClasses, labelsOptional);
        if (shape == null) {
          shape = s.shape;
        } else if (!Arrays.equals(shape, s.shape)) {
          throw new DataFormatException(
              file, place, "example has shape " + Arrays.toString(s.shape) + " but record 0 has " + Arrays.toString(shape));
        }
        boolean has = s.label >= 0;
        if (labelled == null) {
          labelled = has;
        } else if (labelled != has) {
          throw new DataFormatException(
              file, place, (has ? "has a label but record 0 has none" : "has no label but record 0 has one")
                  + "; label every record or none");
        }
        long label = has ? s.label : 0;
        // Encoded images expand up to a thousandfold: the values so far and their final copy must fit.
        values += s.values.length;
        Bytes.checkHeap(file, place, 2 * Float.BYTES * values, "the " + values + " values decoded so far");
        xs.add(s.values);
        ys.add((int) label);
      }
    } catch (IOException e) {
      throw Bytes.cannotRead(file, e);
    }
    if (xs.isEmpty()) {
      throw new DataFormatException(file, "", "no records");
    }
    int e = xs.get(0).length;
    if ((long) xs.size() * e > Integer.MAX_VALUE - 16) {
      throw new DataFormatException(file, "", xs.size() + " examples of " + e + " values do not fit in one array");
    }
    float[] x = new float[xs.size() * e];
    int[] y = new int[xs.size()];
    for (int i = 0; i < xs.size(); i++) {
      System.arraycopy(xs.get(i), 0, x, i * e, e);
      y[i] = ys.get(i);
    }
    return new Examples(file.getFileName().toString(), x, shape, Boolean.TRUE.equals(labelled) ? y : null);
  }

  private static boolean hasLabel(Map<String, Feature> f) {
    for (String k : LABEL_KEYS) {
      if (f.containsKey(k)) {
        return true;
      }
    }
    return false;
  }

  /** One parsed example: its shape, its values and its label. */
  record Sample(long[] shape, float[] values, int label) {}

  /**
   * Parses one record's data as a {@code tf.Example}: the one place examples are read, for whole files and for
   * streamed shards ({@link TfRecordShards}).
   *
   * @param place the record, for messages
   * @param numClasses the class count, or 0 for no bound beyond int range
   */
  static Sample parse(Path file, String place, byte[] data, int numClasses) {
    return parse(file, place, data, numClasses, false);
  }

  /** As {@link #parse(Path, String, byte[], int)}; with {@code labelOptional} a record without a label gets -1. */
  static Sample parse(Path file, String place, byte[] data, int numClasses, boolean labelOptional) {
    return parse(file, place, data, 0, data.length, numClasses, labelOptional);
  }

  /** As {@link #parse(Path, String, byte[], int, boolean)} of the bytes {@code data[from .. from + length)}. */
  static Sample parse(Path file, String place, byte[] data, int from, int length, int numClasses, boolean labelOptional) {
    Example ex;
    try {
      ex = Example.parseFrom(com.google.protobuf.CodedInputStream.newInstance(data, from, length));
    } catch (IOException e) {
      throw new DataFormatException(file, place, "not a tf.Example: " + e.getMessage(), e);
    }
    Map<String, Feature> f = ex.getFeatures().getFeatureMap();
    Sample s = image(file, place, f);
    if (labelOptional && !hasLabel(f)) {
      return new Sample(s.shape, s.values, -1);
    }
    long label = label(file, place, f);
    if (label < 0 || label >= Labels.bound(numClasses)) {
      throw new DataFormatException(
          file, place, "label " + label + " is outside [0, " + Labels.bound(numClasses) + ")");
    }
    return new Sample(s.shape, s.values, (int) label);
  }

  private static Sample image(Path file, String place, Map<String, Feature> f) {
    for (String k : BYTE_KEYS) {
      Feature feat = f.get(k);
      if (feat != null && feat.getKindCase() == Feature.KindCase.BYTES_LIST) {
        if (feat.getBytesList().getValueCount() != 1) {
          throw new DataFormatException(file, place, "'" + k + "' must hold one encoded image, holds " + feat.getBytesList().getValueCount());
        }
        Images.Pixels p;
        try {
          p = Images.decode(feat.getBytesList().getValue(0).toByteArray());
        } catch (IOException | RuntimeException e) {
          throw new DataFormatException(file, place, "cannot decode the image in '" + k + "': " + e.getMessage(), e);
        }
        if (p == null) {
          throw new DataFormatException(file, place, "'" + k + "' is not an image javax.imageio can decode");
        }
        return new Sample(new long[] {p.height(), p.width(), p.channels()}, p.values(), -1);
      }
    }
    for (String k : FLOAT_KEYS) {
      Feature feat = f.get(k);
      if (feat != null && feat.getKindCase() == Feature.KindCase.FLOAT_LIST) {
        // Read by index: the primitive getter does not box each value (a streamed run parses millions of them).
        org.tensorflow.proto.FloatList list = feat.getFloatList();
        float[] v = new float[list.getValueCount()];
        for (int i = 0; i < v.length; i++) {
          v[i] = list.getValue(i);
          if (!Float.isFinite(v[i])) {
            throw new DataFormatException(file, place, "'" + k + "' value " + i + " is not finite");
          }
        }
        long[] shape = {v.length};
        for (String sk : SHAPE_KEYS) {
          Feature s = f.get(sk);
          if (s != null && s.getKindCase() == Feature.KindCase.INT64_LIST) {
            shape = s.getInt64List().getValueList().stream().mapToLong(Long::longValue).toArray();
            if (shape.length == 0 || !fits(shape, v.length)) {
              throw new DataFormatException(
                  file, place, "'" + sk + "' " + Arrays.toString(shape) + " does not fit the " + v.length + " values of '" + k + "'");
            }
            break;
          }
        }
        if (v.length == 0) {
          throw new DataFormatException(file, place, "'" + k + "' is empty");
        }
        return new Sample(shape, v, -1);
      }
    }
    throw new DataFormatException(
        file, place, "no image: expected encoded bytes under one of " + BYTE_KEYS + " or floats under one of " + FLOAT_KEYS
            + "; keys present: " + f.keySet());
  }

  /**
   * Whether {@code shape} has positive dimensions whose product is {@code n}. The product is stopped once it passes
   * {@code n}: multiplied out in longs, [2, 2^63 + 3] would wrap around to 6 and pass for 6 values.
   */
  private static boolean fits(long[] shape, int n) {
    long product = 1;
    for (long d : shape) {
      if (d < 1 || d > n) {
        return false;
      }
      product *= d;
      if (product > n) {
        return false;
      }
    }
    return product == n;
  }

  private static long label(Path file, String place, Map<String, Feature> f) {
    for (String k : LABEL_KEYS) {
      Feature feat = f.get(k);
      if (feat != null && feat.getKindCase() == Feature.KindCase.INT64_LIST) {
        if (feat.getInt64List().getValueCount() != 1) {
          throw new DataFormatException(file, place, "'" + k + "' must hold one int64 label, holds " + feat.getInt64List().getValueCount());
        }
        return feat.getInt64List().getValue(0);
      }
    }
    throw new DataFormatException(file, place, "no int64 label under one of " + LABEL_KEYS + "; keys present: " + f.keySet());
  }

  /** Reads records one by one, checking both CRCs and the declared length against the bytes left in the file. */
  static final class Records {
    private final InputStream in;
    private final Path file;
    private final long fileSize;
    private final byte[] header = new byte[12];
    private long offset;
    private int record;
    private int length;

    /**
     * @param fileSize the size of the (uncompressed) file, to check declared lengths before allocating
     */
    Records(InputStream in, Path file, long fileSize) {
      this(in, file, fileSize, 0, 0);
    }

    /**
     * Records read from {@code in}, which is positioned at byte {@code offset} of the file, the start of record
     * {@code record} (a streamed shard resumed in its middle).
     */
    Records(InputStream in, Path file, long fileSize, long offset, int record) {
      this.in = in;
      this.file = file;
      this.fileSize = fileSize;
      this.offset = offset;
      this.record = record;
    }

    /** The byte offset of the next record. */
    long offset() {
      return offset;
    }

    /** The next record's data, or null at the end of the file. */
    public byte[] next() throws IOException {
      return next(null);
    }

    /**
     * The next record's data ({@link #length()} bytes) in {@code reuse} when it fits, else in a new array of exactly
     * its length; null at the end of the file.
     */
    byte[] next(byte[] reuse) throws IOException {
      int got = in.readNBytes(header, 0, 12);
      if (got == 0) {
        return null;
      }
      String place = "record " + record + " (byte " + offset + ")";
      if (got < 12) {
        throw new DataFormatException(file, place, "file ends inside the record header (truncated)");
      }
      ByteBuffer hb = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
      long length = hb.getLong(0);
      int lengthCrc = hb.getInt(8);
      if (lengthCrc != TfRecord.maskedCrc32c(header, 0, 8)) {
        throw new DataFormatException(file, place, "bad CRC of the record length (corrupt file or not a TFRecord file)");
      }
      long left = fileSize - offset - 12;
      // Compared as "length > left - 4", never "length + 4 > left": a declared length near 2^63 would overflow.
      if (length < 0 || length > left - 4 || length > Integer.MAX_VALUE - 16) {
        throw new DataFormatException(
            file, place, "record declares " + length + " bytes but only " + Math.max(0, left - 4) + " are left (truncated)");
      }
      int n = (int) length;
      byte[] data = reuse != null && reuse.length >= n ? reuse : new byte[n];
      int read = in.readNBytes(data, 0, n);
      int crcRead = in.readNBytes(header, 0, 4);
      if (read != n || crcRead != 4) {
        throw new DataFormatException(file, place, "file ends inside the record (truncated)");
      }
      if (ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt(0) != TfRecord.maskedCrc32c(data, 0, n)) {
        throw new DataFormatException(file, place, "bad CRC of the record data (corrupt record)");
      }
      offset += 16 + length;
      record++;
      this.length = n;
      return data;
    }

    /** The length of the record read last. */
    int length() {
      return length;
    }

    /** The index of the next record. */
    public int recordIndex() {
      return record;
    }
  }
}
