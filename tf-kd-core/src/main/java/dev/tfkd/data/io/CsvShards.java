package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/**
 * CSV files (one or a glob of several, each a shard) read as a stream of lines: a record is one data line, found
 * again by its byte offset, so a resumed stream seeks straight to the saved offsets and no index of line offsets is
 * kept. Rows are read as {@link CsvReader} reads them: numeric features then an integer label in the last column,
 * comma-separated ({@code .tsv}: tab), a first line with a non-numeric field is a header, blank lines are skipped,
 * every row as wide as the first line, every feature finite, every label a non-negative integer.
 *
 * <p>Opening reads every line once: it counts the data rows, checks their UTF-8, width and label (naming the line,
 * as the in-memory reader does) and, unless the class count is given, takes the largest label plus one. Features are
 * parsed when a record is drawn; a bad value then names the record and its byte offset. Lines end with {@code \n}
 * (a {@code \r} before it is dropped); a blank line is one of ASCII white space only.
 */
public final class CsvShards extends RecordShards {
  /** The longest line accepted, in bytes: a file without line breaks is not read whole into memory. */
  static final int MAX_LINE = 1 << 26;

  private final int width;

  private CsvShards(String spec, List<Path> files, long[] sizes, long[] counts, Dataset sample, int numClasses, int width) {
    super(spec, "csv", files, sizes, counts, sample, numClasses);
    this.width = width;
  }

  /** What opening learnt of one file. */
  private record Scan(long rows, int width, int maxLabel) {}

  static CsvShards open(String spec, List<Path> files, int numClasses) {
    long[] sizes = new long[files.size()];
    long[] counts = new long[files.size()];
    int width = -1;
    int max = -1;
    for (int s = 0; s < files.size(); s++) {
      Path f = files.get(s);
      try {
        sizes[s] = Files.size(f);
      } catch (IOException e) {
        throw Bytes.cannotRead(f, e);
      }
      Scan sc = scan(f, numClasses);
      if (width >= 0 && sc.width != width) {
        throw new DataFormatException(f, "line 1", "rows have " + sc.width + " fields but those of " + files.get(0) + " have " + width);
      }
      width = sc.width;
      counts[s] = sc.rows;
      max = Math.max(max, sc.maxLabel);
    }
    if (Arrays.stream(counts).sum() == 0) {
      throw new DataFormatException(files.get(0), "", "no data rows");
    }
    int k = numClasses > 0 ? numClasses : max + 1;
    int e = width - 1;
    int n = 0;
    for (long c : counts) {
      n += (int) Math.min(SAMPLE_PER_SHARD, c);
    }
    float[] x = new float[n * e];
    int[] y = new int[n];
    int at = 0;
    for (int s = 0; s < files.size(); s++) {
      try (Cursor c = cursor(files.get(s), 0, 0)) {
        for (int i = 0; i < Math.min(SAMPLE_PER_SHARD, counts[s]); i++) {
          long offset = c.offset();
          byte[] line = c.next(null);
          y[at] = row(files.get(s), "record " + i + " (byte " + offset + ")", line, 0, c.length(), width, x, at * e, k);
          at++;
        }
      } catch (IOException ex) {
        throw Bytes.cannotRead(files.get(s), ex);
      }
    }
    Dataset sample = new Dataset(spec + " (first records of each shard)", x, y, new long[] {e}, k, null);
    return new CsvShards(spec, files, sizes, counts, sample, k, width);
  }

  @Override
  int parse(byte[] data, int from, int length, long index, long offset, float[] x, int at) {
    int shard = shardOf(index);
    int label = row(shards().get(shard), place(shard, index, offset), data, from, length, width, x, at, numClasses());
    return checkLabel(shard, index, offset, label);
  }

  @Override
  Cursor cursor(int shard, long offset, int record) throws IOException {
    return cursor(shards().get(shard), offset, record);
  }

  /** Reads the data lines of {@code f} from {@code offset} (0: the start, where a header line is skipped). */
  private static Cursor cursor(Path f, long offset, int record) throws IOException {
    FileChannel ch = FileChannel.open(f, StandardOpenOption.READ);
    ch.position(offset);
    InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 1 << 16);
    Lines lines = new Lines(in, f, offset);
    return new Cursor() {
      int rec = record;
      boolean atStart = offset == 0;

      @Override
      public byte[] next(byte[] reuse) throws IOException {
        // Never the array returned last: the caller may still hold it.
        lines.buf = reuse != null && reuse.length > 0 ? reuse : new byte[256];
        while (true) {
          if (!lines.read()) {
            return null;
          }
          if (lines.blank()) {
            continue;
          }
          if (atStart) {
            atStart = false;
            if (!CsvReader.allNumeric(lines.text().split(separator(f), -1))) {
              continue;
            }
          }
          rec++;
          return lines.buf;
        }
      }

      @Override
      public int length() {
        return lines.length;
      }

      @Override
      public long offset() {
        // The start of the next line: blank lines before the next data line are skipped when it is read, so this is
        // a valid place to continue from (the header is only ever at offset 0).
        return lines.position;
      }

      @Override
      public int record() {
        return rec;
      }

      @Override
      public void close() {
        try {
          in.close();
        } catch (IOException ignored) {
          // Read-only: nothing is lost when closing fails.
        }
      }
    };
  }

  /** Counts and checks the data rows of {@code f}, naming lines as the in-memory reader does. */
  private static Scan scan(Path f, int numClasses) {
    long rows = 0;
    int width = -1;
    int max = -1;
    try (InputStream in = new BufferedInputStream(Files.newInputStream(f), 1 << 16)) {
      Lines lines = new Lines(in, f, 0);
      long lineNo = 0;
      boolean first = true;
      while (lines.read()) {
        lineNo++;
        String line = lines.text();
        if (line.indexOf('\uFFFD') >= 0) {
          throw new DataFormatException(f, "line " + lineNo, "not UTF-8 text (a binary or corrupt file?)");
        }
        if (lines.blank()) {
          continue;
        }
        String[] fields = line.split(separator(f), -1);
        if (first) {
          first = false;
          width = fields.length;
          if (!CsvReader.allNumeric(fields)) {
            continue;
          }
        }
        if (fields.length != width) {
          throw new DataFormatException(
              f, "line " + lineNo, "row has " + fields.length + " fields, expected " + width + " like the first row");
        }
        if (width < 2) {
          throw new DataFormatException(f, "line " + lineNo, "need at least one feature and a label column");
        }
        max = Math.max(max, label(f, "line " + lineNo + ", column " + width, fields[width - 1], numClasses));
        rows++;
      }
    } catch (IOException e) {
      throw Bytes.cannotRead(f, e);
    }
    if (width < 0) {
      throw new DataFormatException(f, "", "no data rows");
    }
    return new Scan(rows, width, max);
  }

  private static String separator(Path f) {
    return lower(f).endsWith(".tsv") ? "\t" : ",";
  }

  private static int label(Path f, String place, String field, int numClasses) {
    String l = field.strip();
    int label;
    try {
      label = Integer.parseInt(l);
    } catch (NumberFormatException e) {
      throw new DataFormatException(f, place, "label '" + l + "' is not an integer");
    }
    if (label < 0 || label >= Labels.bound(numClasses)) {
      throw new DataFormatException(f, place, "label " + label + " is outside [0, " + Labels.bound(numClasses) + ")");
    }
    return label;
  }

  /** Parses one data line's features into {@code x[at ..]} and returns its label. */
  private static int row(Path f, String place, byte[] data, int from, int length, int width, float[] x, int at, int k) {
    String line = new String(data, from, length, StandardCharsets.UTF_8);
    if (line.indexOf('\uFFFD') >= 0) {
      throw new DataFormatException(f, place, "not UTF-8 text (a binary or corrupt file?)");
    }
    String[] fields = line.split(separator(f), -1);
    if (fields.length != width) {
      throw new DataFormatException(f, place, "row has " + fields.length + " fields, expected " + width + " like the first row");
    }
    for (int c = 0; c < width - 1; c++) {
      x[at + c] = CsvReader.number(f, place + ", column " + (c + 1), fields[c]);
    }
    return label(f, place + ", column " + width, fields[width - 1], k);
  }

  /** Reads lines of bytes, tracking the byte offset. */
  private static final class Lines {
    final InputStream in;
    final Path file;
    final byte[] chunk = new byte[1 << 16];
    int chunkAt;
    int chunkEnd;
    byte[] buf = new byte[256];
    int length;
    long position;

    Lines(InputStream in, Path file, long position) {
      this.in = in;
      this.file = file;
      this.position = position;
    }

    /** Reads the next line into {@code buf[0 .. length)} (without its end); false at the end of the file. */
    boolean read() throws IOException {
      length = 0;
      long start = position;
      boolean any = false;
      while (true) {
        if (chunkAt == chunkEnd) {
          chunkEnd = in.read(chunk, 0, chunk.length);
          chunkAt = 0;
          if (chunkEnd <= 0) {
            chunkEnd = 0;
            break;
          }
        }
        any = true;
        int i = chunkAt;
        while (i < chunkEnd && chunk[i] != '\n') {
          i++;
        }
        int n = i - chunkAt;
        if (length + n > buf.length) {
          if (length + n > MAX_LINE) {
            throw new DataFormatException(file, "byte " + start, "a line longer than " + MAX_LINE + " bytes (not a CSV file?)");
          }
          buf = Arrays.copyOf(buf, Math.min(MAX_LINE, Math.max(length + n, 2 * buf.length)));
        }
        System.arraycopy(chunk, chunkAt, buf, length, n);
        length += n;
        position += n;
        chunkAt = i;
        if (i < chunkEnd) {
          chunkAt++;
          position++;
          break;
        }
      }
      if (!any) {
        return false;
      }
      if (length > 0 && buf[length - 1] == '\r') {
        length--;
      }
      return true;
    }

    boolean blank() {
      for (int i = 0; i < length; i++) {
        int b = buf[i] & 0xff;
        if (b >= 0x80 || !Character.isWhitespace(b)) {
          return false;
        }
      }
      return true;
    }

    String text() {
      return new String(buf, 0, length, StandardCharsets.UTF_8);
    }
  }
}
