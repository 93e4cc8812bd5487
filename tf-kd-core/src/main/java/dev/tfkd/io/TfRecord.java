package dev.tfkd.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The TFRecord framing: each record is a little-endian uint64 length, the masked CRC-32C of those 8 bytes, the data,
 * and the masked CRC-32C of the data. The mask is TensorFlow's: {@code ((crc >>> 15) | (crc << 17)) + 0xa282ead8}.
 * The one implementation of the framing: dataset files, TensorFlow Serving warm-up requests and TensorBoard event
 * files all use it.
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
    out.write(frame(data));
  }

  /** One whole record: {@code data} framed. */
  public static byte[] frame(byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(8 + 4 + data.length + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(data.length);
    b.putInt(maskedCrc32c(b.array(), 0, 8));
    b.put(data);
    b.putInt(maskedCrc32c(data, 0, data.length));
    return b.array();
  }
}
