package dev.tfkd.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A TFRecord reader for tests, independent of the writer: its own bitwise CRC32C (Castagnoli, reflected polynomial
 * 0x82F63B78) and mask, and it fails on any checksum or length mismatch.
 */
public final class TfRecordReader {
  private TfRecordReader() {}

  public static List<byte[]> read(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    List<byte[]> records = new ArrayList<>();
    while (b.hasRemaining()) {
      if (b.remaining() < 12) {
        throw new IOException(file + ": truncated header at " + b.position());
      }
      byte[] header = new byte[8];
      b.get(header);
      long length = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getLong();
      int lengthCrc = b.getInt();
      if (lengthCrc != mask(crc32c(header))) {
        throw new IOException(file + ": bad length checksum at " + (b.position() - 12));
      }
      if (length < 0 || length > b.remaining() - 4) {
        throw new IOException(file + ": record length " + length + " overruns the file");
      }
      byte[] data = new byte[(int) length];
      b.get(data);
      if (b.getInt() != mask(crc32c(data))) {
        throw new IOException(file + ": bad data checksum in record " + records.size());
      }
      records.add(data);
    }
    return records;
  }

  static int crc32c(byte[] data) {
    int crc = 0xFFFFFFFF;
    for (byte d : data) {
      crc ^= d & 0xFF;
      for (int i = 0; i < 8; i++) {
        crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
      }
    }
    return ~crc;
  }

  static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
  }
}
