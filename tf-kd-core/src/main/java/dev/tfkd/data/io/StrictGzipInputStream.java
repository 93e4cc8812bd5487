package dev.tfkd.data.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * A gzip (RFC 1952) decompressing stream that checks everything the format lets it check: the header (magic,
 * method 8, reserved flags clear, optional fields well formed), each member's CRC-32 and ISIZE trailer, and that
 * nothing but further complete members follows the first. Members are concatenated, as gzip specifies.
 *
 * <p>Unlike {@link java.util.zip.GZIPInputStream}, it never ignores bytes after a member that do not start another
 * member (they are refused), and it checks a trailer as soon as a member's compressed data ends, so a reader that
 * reads to {@code -1} has had every checksum verified. Errors are {@link ZipException} (corrupt) or
 * {@link EOFException} (truncated); the caller names the file. Not thread-safe; closing closes the underlying stream.
 */
final class StrictGzipInputStream extends InputStream {
  private final PushbackInputStream in;
  private final Inflater inflater = new Inflater(true);
  private final CRC32 crc = new CRC32();
  private final byte[] buf = new byte[1 << 16];
  private long memberBytes;
  private int members;
  private boolean eof;
  /** How many bytes of {@code buf} the inflater was last given. */
  private int lastInput;
  private final byte[] one = new byte[1];

  StrictGzipInputStream(InputStream raw) throws IOException {
    this.in = new PushbackInputStream(raw, buf.length);
    readHeader();
  }

  @Override
  public int read() throws IOException {
    int r = read(one, 0, 1);
    return r < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    while (!eof) {
      int r;
      try {
        r = inflater.inflate(b, off, len);
      } catch (DataFormatException e) {
        throw new ZipException("member " + (members + 1) + ": corrupt deflate data (" + e.getMessage() + ")");
      }
      if (r > 0) {
        crc.update(b, off, r);
        memberBytes += r;
        return r;
      }
      if (inflater.finished()) {
        endMember();
      } else if (inflater.needsDictionary()) {
        throw new ZipException("member " + (members + 1) + ": deflate data asks for a preset dictionary");
      } else if (inflater.needsInput()) {
        int n = in.read(buf, 0, buf.length);
        if (n < 0) {
          throw new EOFException("member " + (members + 1) + ": the compressed data ends early (truncated)");
        }
        lastInput = n;
        inflater.setInput(buf, 0, n);
      }
    }
    return -1;
  }

  /** Checks the trailer of the member just inflated, then starts the next member or ends the stream. */
  private void endMember() throws IOException {
    int left = inflater.getRemaining();
    if (left > 0) {
      // Bytes the inflater was given past the end of the deflate data: the trailer and what follows.
      in.unread(buf, lastInput - left, left);
    }
    long storedCrc = readLe(4);
    long storedSize = readLe(4);
    members++;
    if (storedCrc != crc.getValue()) {
      throw new ZipException(
          String.format("member %d: CRC-32 mismatch (stored %08x, data %08x): the compressed data is corrupt",
              members, storedCrc, crc.getValue()));
    }
    if (storedSize != (memberBytes & 0xffffffffL)) {
      throw new ZipException(
          "member " + members + ": length mismatch (stored " + storedSize + ", data " + memberBytes + " bytes mod 2^32)");
    }
    int next = in.read();
    if (next < 0) {
      eof = true;
      return;
    }
    in.unread(next);
    inflater.reset();
    crc.reset();
    memberBytes = 0;
    readHeader();
  }

  private void readHeader() throws IOException {
    int id1 = in.read();
    int id2 = in.read();
    if (id1 != 0x1f || id2 != 0x8b) {
      throw new ZipException(
          members == 0 ? "not in gzip format" : "bytes after gzip member " + members + " are not another gzip member");
    }
    int method = readByte();
    if (method != 8) {
      throw new ZipException("unsupported gzip compression method " + method);
    }
    int flags = readByte();
    if ((flags & 0xe0) != 0) {
      throw new ZipException("reserved gzip header flags set (0x" + Integer.toHexString(flags) + ")");
    }
    skip(6); // modification time, extra flags, operating system
    if ((flags & 4) != 0) {
      skip((int) readLe(2)); // FEXTRA
    }
    if ((flags & 8) != 0) {
      skipString(); // FNAME
    }
    if ((flags & 16) != 0) {
      skipString(); // FCOMMENT
    }
    if ((flags & 2) != 0) {
      skip(2); // FHCRC
    }
  }

  private int readByte() throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("the gzip header or trailer ends early (truncated)");
    }
    return b;
  }

  private long readLe(int bytes) throws IOException {
    long v = 0;
    for (int i = 0; i < bytes; i++) {
      v |= (long) readByte() << (8 * i);
    }
    return v;
  }

  private void skip(int n) throws IOException {
    for (int i = 0; i < n; i++) {
      readByte();
    }
  }

  private void skipString() throws IOException {
    // Bounded: a header field has no business being longer than this, and an endless one would be read forever.
    for (int i = 0; readByte() != 0; i++) {
      if (i > (1 << 16)) {
        throw new ZipException("gzip header name or comment longer than 64 KiB");
      }
    }
  }

  @Override
  public void close() throws IOException {
    inflater.end();
    in.close();
  }
}
