package dev.tfkd.data.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The TFRecord framing: each record is a little-endian uint64 length, the masked CRC-32C of those 8 bytes, the data,
 * and the masked CRC-32C of the data. The mask is TensorFlow's: {@code ((crc >>> 15) | (crc << 17)) + 0xa282ead8}.
 */
public final class TfRecord {
  private TfRecord() {}

  private static final int MASK_DELTA = 0xa282ead8;

  /** TensorFlow's masked CRC-32C of {@code data[offset .. offset + length)}. */
  public static int maskedCrc32c(byte[] data, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(data, offset, length);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + MASK_DELTA;
  }

  /** Writes one record. */
  public static void write(OutputStream out, byte[] data) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    header.putLong(data.length);
    header.putInt(maskedCrc32c(header.array(), 0, 8));
    out.write(header.array());
    out.write(data);
    out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(maskedCrc32c(data, 0, data.length)).array());
  }

  /** Reads records one by one, checking both CRCs and the declared length against the bytes left in the file. */
  public static final class Reader {
    private final InputStream in;
    private final Path file;
    private final long fileSize;
    private long offset;
    private int record;

    /**
     * @param fileSize the size of the (uncompressed) file, to check declared lengths before allocating
     */
    public Reader(InputStream in, Path file, long fileSize) {
      this.in = in;
      this.file = file;
      this.fileSize = fileSize;
    }

    /** The next record's data, or null at the end of the file. */
    public byte[] next() throws IOException {
      byte[] header = in.readNBytes(12);
      if (header.length == 0) {
        return null;
      }
      String place = "record " + record + " (byte " + offset + ")";
      if (header.length < 12) {
        throw new DataFormatException(file, place, "file ends inside the record header (truncated)");
      }
      ByteBuffer hb = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
      long length = hb.getLong();
      int lengthCrc = hb.getInt();
      if (lengthCrc != maskedCrc32c(header, 0, 8)) {
        throw new DataFormatException(file, place, "bad CRC of the record length (corrupt file or not a TFRecord file)");
      }
      long left = fileSize - offset - 12;
      // Compared as "length > left - 4", never "length + 4 > left": a declared length near 2^63 would overflow.
      if (length < 0 || length > left - 4 || length > Integer.MAX_VALUE - 16) {
        throw new DataFormatException(
            file, place, "record declares " + length + " bytes but only " + Math.max(0, left - 4) + " are left (truncated)");
      }
      byte[] data = in.readNBytes((int) length);
      byte[] crc = in.readNBytes(4);
      if (data.length != length || crc.length != 4) {
        throw new DataFormatException(file, place, "file ends inside the record (truncated)");
      }
      if (ByteBuffer.wrap(crc).order(ByteOrder.LITTLE_ENDIAN).getInt() != maskedCrc32c(data, 0, data.length)) {
        throw new DataFormatException(file, place, "bad CRC of the record data (corrupt record)");
      }
      offset += 16 + length;
      record++;
      return data;
    }

    /** The index of the next record. */
    public int recordIndex() {
      return record;
    }
  }
}
