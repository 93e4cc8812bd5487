package dev.tfkd.data.io;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * File access shared by the readers: gzip detection, strict gzip decompression and reads that never trust a declared
 * size. An I/O error (an unreadable file, a device error) is a {@link DataFormatException} naming the file, like any
 * other bad input.
 */
final class Bytes {
  private Bytes() {}

  /** Whether {@code file} starts with the gzip magic {@code 1f 8b}. */
  static boolean isGzip(Path file) {
    byte[] head = head(file, 2);
    return head.length == 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
  }

  /** Up to {@code n} first bytes of {@code file}, as stored (not decompressed). */
  static byte[] head(Path file, int n) {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(n);
    } catch (IOException e) {
      throw cannotRead(file, e);
    }
  }

  /** The error for a file that cannot be opened or read at all (permissions, I/O error). */
  static DataFormatException cannotRead(Path file, IOException e) {
    String why = e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.getMessage();
    return new DataFormatException(file, "", "cannot read: " + why, e);
  }

  /**
   * Refuses to go on when {@code bytes} of memory for what {@code file} declares or holds would take more than half
   * the maximum heap: a clear error instead of an OutOfMemoryError (a gzip file or an encoded image can expand a
   * thousandfold). Half the maximum rather than the free heap, so the answer does not depend on the collector.
   */
  static void checkHeap(Path file, String place, long bytes, String what) {
    long heap = Runtime.getRuntime().maxMemory();
    if (bytes < 0 || bytes > heap / 2) {
      throw new DataFormatException(
          file, place, what + " would need " + (bytes < 0 ? "over 2^63 bytes" : (bytes >> 20) + " MiB") + " of memory,"
              + " more than half the " + (heap >> 20) + " MiB heap (a corrupt header, or raise -Xmx)");
    }
  }

  /**
   * Opens {@code file}, transparently decompressing gzip with {@link StrictGzipInputStream}: read to its end, the
   * stream has checked every member's CRC-32 and length and refused bytes after the last member.
   */
  static InputStream open(Path file) throws IOException {
    InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    raw.mark(2);
    int a = raw.read();
    int b = raw.read();
    raw.reset();
    if (a == 0x1f && b == 0x8b) {
      return new BufferedInputStream(new StrictGzipInputStream(raw), 1 << 16);
    }
    return raw;
  }

  /**
   * Reads exactly {@code n} bytes that {@code file} declares at {@code offset}, and requires the data to end there:
   * bytes after them are refused, and a gzip stream is read to its end so that its trailers are checked. For an uncompressed file the declared
   * size is checked against the file size before anything is allocated; for a gzip file (whose size says nothing
   * about its content) the buffer grows only with the bytes actually read.
   */
  static byte[] readDeclared(InputStream in, Path file, boolean gzip, long offset, long n, String what) throws IOException {
    if (n > Integer.MAX_VALUE - 16) {
      throw new DataFormatException(file, "byte " + offset, what + " declares " + n + " bytes, more than one array holds");
    }
    if (!gzip) {
      long size = Files.size(file);
      if (offset + n > size) {
        throw new DataFormatException(
            file, "byte " + offset, what + " declares " + n + " bytes of data but the file holds only " + (size - offset)
                + " after the header (truncated file or wrong header)");
      }
      byte[] out = in.readNBytes((int) n);
      if (out.length != n) {
        throw new DataFormatException(file, "byte " + (offset + out.length), "file ends early (truncated)");
      }
      if (offset + n < size) {
        throw new DataFormatException(
            file, "byte " + (offset + n), (size - offset - n) + " bytes after the " + n + " bytes of data " + what
                + " declares (a wrong header, or two files joined)");
      }
      return out;
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream((int) Math.min(n, 1 << 20));
    byte[] chunk = new byte[1 << 13];
    long left = n;
    while (left > 0) {
      int r;
      try {
        r = in.read(chunk, 0, (int) Math.min(chunk.length, left));
      } catch (java.io.EOFException | java.util.zip.ZipException e) {
        // A cut-off or damaged gzip stream: say how far the data got.
        throw new DataFormatException(
            file, "after byte " + (offset + n - left) + " of the decompressed data",
            "the gzip stream is truncated or corrupt (" + e.getMessage() + ")", e);
      }
      if (r < 0) {
        throw new DataFormatException(
            file, "byte " + (offset + n - left) + " of the decompressed data",
            what + " declares " + n + " bytes but the data ends after " + (n - left) + " (truncated file or wrong header)");
      }
      buf.write(chunk, 0, r);
      left -= r;
    }
    // Reading on to the end makes the gzip stream check its CRC-32 and length trailers: without it a flipped byte in
    // the compressed data would be read as data.
    long extra = 0;
    try {
      for (int r; (r = in.read(chunk)) >= 0; ) {
        extra += r;
        if (extra > (1 << 20)) {
          break;
        }
      }
    } catch (java.io.EOFException | java.util.zip.ZipException e) {
      throw new DataFormatException(
          file, "after byte " + (offset + n + extra) + " of the decompressed data",
          "the gzip stream is truncated or corrupt (" + e.getMessage() + ")", e);
    }
    if (extra > 0) {
      throw new DataFormatException(
          file, "byte " + (offset + n) + " of the decompressed data",
          (extra > (1 << 20) ? "over 1 MiB" : extra + " bytes") + " after the " + n + " bytes of data " + what
              + " declares (a wrong header, or two files joined)");
    }
    return buf.toByteArray();
  }
}
