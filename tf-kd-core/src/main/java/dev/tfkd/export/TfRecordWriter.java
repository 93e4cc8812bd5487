package dev.tfkd.export;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Writes TFRecord framing: for each record, its length as a little-endian uint64, the masked CRC-32C of those 8
 * bytes, the data, and the masked CRC-32C of the data. The mask is TensorFlow's:
 * {@code ((crc >>> 15) | (crc << 17)) + 0xa282ead8}. Does not close the stream it wraps.
 */
public final class TfRecordWriter {
  private static final int MASK_DELTA = 0xa282ead8;
  private final OutputStream out;

  public TfRecordWriter(OutputStream out) {
    this.out = out;
  }

  /** Appends one record. */
  public void write(byte[] data) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    header.putLong(data.length);
    header.putInt(maskedCrc32c(header.array(), 0, 8));
    out.write(header.array());
    out.write(data);
    ByteBuffer footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    footer.putInt(maskedCrc32c(data, 0, data.length));
    out.write(footer.array());
  }

  /** TensorFlow's masked CRC-32C of {@code data[off, off + len)}. */
  public static int maskedCrc32c(byte[] data, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(data, off, len);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + MASK_DELTA;
  }
}
