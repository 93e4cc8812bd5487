package dev.tfkd.data.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IDX, CIFAR and CSV files streamed through {@link RecordShards} give exactly the examples the in-memory readers
 * give; a stream resumed from its position continues as the uninterrupted one; corrupt and truncated files are
 * refused naming the file and the byte offset. TFRecord records decoded directly ({@link FastExample}) equal those
 * parsed with protobuf.
 */
class StreamedFormatsTest {
  @TempDir Path dir;

  /** Every record of {@code s} in file order, parsed: features and labels as a dataset. */
  private static Dataset inFileOrder(RecordShards s) {
    int e = s.exampleSize();
    float[] x = new float[(int) s.size() * e];
    int[] y = new int[(int) s.size()];
    try (ShuffledRecords r = s.records(0, 1, false)) {
      for (int i = 0; i < s.size(); i++) {
        ShuffledRecords.Raw raw = r.next();
        assertEquals(i, raw.index());
        y[i] = s.parse(raw, x, i * e);
      }
    }
    return new Dataset("streamed", x, y, s.exampleShape(), s.numClasses(), null);
  }

  private static void assertSameExamples(Dataset memory, RecordShards streamed) {
    assertEquals(memory.size(), streamed.size());
    assertArrayEquals(memory.exampleShape(), streamed.exampleShape());
    assertEquals(memory.numClasses(), streamed.numClasses());
    Dataset d = inFileOrder(streamed);
    assertArrayEquals(memory.labels(), d.labels());
    assertArrayEquals(memory.features(), d.features());
    // Shuffled through batches: every record exactly once per pass, each equal to its in-memory row.
    int e = streamed.exampleSize();
    Set<Long> seen = new HashSet<>();
    try (ShuffledRecords r = streamed.records(7, 5, true)) {
      RawBatch batch = new RawBatch();
      float[] x = new float[3 * e];
      for (int drawn = 0; drawn < streamed.size(); drawn += batch.size()) {
        batch.clear();
        for (int i = 0; i < Math.min(3, streamed.size() - drawn); i++) {
          r.next(batch);
        }
        for (int i = 0; i < batch.size(); i++) {
          int row = (int) batch.index(i);
          assertTrue(seen.add(batch.index(i)), "drawn twice: " + row);
          assertEquals(memory.labels()[row], streamed.parse(batch, i, x, i * e));
          assertArrayEquals(Arrays.copyOfRange(memory.features(), row * e, (row + 1) * e), Arrays.copyOfRange(x, i * e, (i + 1) * e));
        }
      }
      assertEquals(0, r.pass());
      assertEquals(memory.size(), seen.size());
    }
  }

  @Test
  void idxStreamsTheInMemoryExamples() throws Exception {
    Path images = TestFiles.mnistLike(dir, "train", 37, 5, 4, 7, false);
    assertSameExamples(DataSources.load(images.toString(), null, DataSources.Split.TRAIN), RecordShards.open(images.toString(), null, 0));
    // A folder is read by split, as in memory.
    assertSameExamples(DataSources.load(dir.toString(), "idx", DataSources.Split.TRAIN), RecordShards.open(dir.toString(), "idx", 0));
  }

  @Test
  void cifarStreamsTheInMemoryExamples() throws Exception {
    Path c10 = dir.resolve("c10");
    Files.createDirectories(c10);
    for (int b = 1; b <= 2; b++) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (int i = 0; i < 3 + b; i++) {
        out.write(TestFiles.cifarRecord((i * 3 + b) % 10));
      }
      Files.write(c10.resolve("data_batch_" + b + ".bin"), out.toByteArray());
    }
    RecordShards s = RecordShards.open(c10.toString(), null, 0);
    assertEquals(2, s.shards().size());
    assertSameExamples(DataSources.load(c10.toString(), null, DataSources.Split.TRAIN), s);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < 4; i++) {
      out.write(TestFiles.cifarRecord(i % 20, (i * 37) % 100));
    }
    Path c100 = Files.write(dir.resolve("train.bin"), out.toByteArray());
    assertSameExamples(DataSources.load(c100.toString(), "cifar100", DataSources.Split.TRAIN), RecordShards.open(c100.toString(), "cifar100", 0));
  }

  @Test
  void csvStreamsTheInMemoryExamples() throws Exception {
    StringBuilder text = new StringBuilder("a,b,c,label\r\n\n");
    for (int i = 0; i < 23; i++) {
      text.append(i * 0.5f).append(", ").append(-i).append(',').append(1e-3f * i).append(',').append(i % 4).append(i % 5 == 0 ? "\r\n" : "\n");
      if (i % 7 == 0) {
        text.append("   \n");
      }
    }
    Path csv = Files.writeString(dir.resolve("d.csv"), text.toString());
    assertSameExamples(DataSources.load(csv.toString(), null, DataSources.Split.TRAIN), RecordShards.open(csv.toString(), null, 0));
    // Without a header, and without a final line break.
    Path tsv = Files.writeString(dir.resolve("d.tsv"), "1\t2\t0\n3\t4\t1\n\n5\t6\t2");
    assertSameExamples(DataSources.load(tsv.toString(), null, DataSources.Split.TRAIN), RecordShards.open(tsv.toString(), null, 0));
  }

  @Test
  void tfrecordDecodedDirectlyEqualsProtobuf() throws Exception {
    List<org.tensorflow.proto.Example> ex = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      float[] v = new float[12];
      for (int j = 0; j < v.length; j++) {
        v[j] = (float) Math.sin(i * 31 + j) * (j == 3 ? 1e-30f : 3f);
      }
      ex.add(TestFiles.floatExample(v, new long[] {3, 4}, i % 3));
    }
    Path f = TestFiles.tfrecord(dir.resolve("a.tfrecord"), ex.toArray(new org.tensorflow.proto.Example[0]));
    RecordShards s = RecordShards.open(f.toString(), null, 0);
    Dataset memory = TfRecordReader.read(f, 0);
    assertSameExamples(memory, s);
    // The direct decoder took these records (not the protobuf fallback).
    float[] x = new float[12];
    byte[] data = ex.get(5).toByteArray();
    assertEquals(2, new FastExample().decode(data, 0, data.length, new long[] {3, 4}, 12, 3, x, 0));
    assertArrayEquals(Arrays.copyOfRange(memory.features(), 60, 72), x);
    // Anything it does not take goes to protobuf: another shape, a label beyond the classes, a cut record.
    assertEquals(-1, new FastExample().decode(data, 0, data.length, new long[] {12}, 12, 3, x, 0));
    assertEquals(-1, new FastExample().decode(data, 0, data.length, new long[] {3, 4}, 12, 2, x, 0));
    assertEquals(-1, new FastExample().decode(data, 0, data.length - 3, new long[] {3, 4}, 12, 3, x, 0));
  }

  @Test
  void resumedStreamContinuesExactly() throws Exception {
    Path images = TestFiles.mnistLike(dir, "train", 50, 3, 3, 5, false);
    Path csv = dir.resolve("r.csv");
    StringBuilder text = new StringBuilder("x,y\n");
    for (int i = 0; i < 41; i++) {
      text.append(i).append(',').append(i % 3).append('\n').append(i % 4 == 0 ? "\n" : "");
    }
    Files.writeString(csv, text.toString());
    for (RecordShards s : List.of(RecordShards.open(images.toString(), null, 0), RecordShards.open(csv.toString(), null, 0))) {
      List<Long> whole = new ArrayList<>();
      List<Long> resumed = new ArrayList<>();
      try (ShuffledRecords r = s.records(3, 16, true)) {
        for (int i = 0; i < 130; i++) {
          whole.add(r.next().index());
        }
      }
      StreamPosition p;
      try (ShuffledRecords r = s.records(3, 16, true)) {
        for (int i = 0; i < 67; i++) {
          resumed.add(r.next().index());
        }
        p = r.position();
      }
      try (ShuffledRecords r = s.records(3, 16, p)) {
        for (int i = 67; i < 130; i++) {
          ShuffledRecords.Raw raw = r.next();
          resumed.add(raw.index());
          float[] x = new float[s.exampleSize()];
          float[] y = new float[s.exampleSize()];
          // The bytes read again on resume parse to the same example as in file order.
          s.parse(raw, x, 0);
          s.parse(fileOrder(s, raw.index()), y, 0);
          assertArrayEquals(y, x);
        }
      }
      assertEquals(whole, resumed, s.name());
    }
  }

  private static ShuffledRecords.Raw fileOrder(RecordShards s, long index) {
    try (ShuffledRecords r = s.records(0, 1, false)) {
      for (long i = 0; ; i++) {
        ShuffledRecords.Raw raw = r.next();
        if (i == index) {
          return raw;
        }
      }
    }
  }

  @Test
  void corruptOrTruncatedFilesAreRefusedNamingFileAndOffset() throws Exception {
    // IDX images cut in the middle of record 6 of 9-byte records: the header is 16 bytes.
    Path images = TestFiles.mnistLike(dir, "cut", 10, 3, 3, 5, false);
    byte[] all = Files.readAllBytes(images);
    Files.write(images, Arrays.copyOf(all, 16 + 6 * 9 + 4));
    DataFormatException e = assertThrows(DataFormatException.class, () -> RecordShards.open(images.toString(), null, 0));
    assertOneLine(e, "cut-images-idx3-ubyte", "record 6 (byte 70)");
    // Trailing bytes after the declared data.
    Files.write(images, Arrays.copyOf(all, all.length + 5));
    e = assertThrows(DataFormatException.class, () -> RecordShards.open(images.toString(), null, 0));
    assertOneLine(e, "cut-images-idx3-ubyte", "byte " + all.length);
    // A label out of range in the labels file, named by its byte.
    Files.write(images, all);
    Path labels = dir.resolve("cut-labels-idx1-ubyte");
    byte[] lb = Files.readAllBytes(labels);
    lb[8 + 4] = (byte) 200;
    Files.write(labels, lb);
    e = assertThrows(DataFormatException.class, () -> RecordShards.open(images.toString(), null, 5));
    assertOneLine(e, "cut-labels-idx1-ubyte", "byte 12");
    // Gzip IDX cannot be streamed: refused with what to do.
    Path gz = TestFiles.mnistLike(dir, "gz", 4, 2, 2, 2, true);
    e = assertThrows(DataFormatException.class, () -> RecordShards.open(gz.toString(), null, 0));
    assertOneLine(e, "gz-", "gunzip");
    assertEquals(0, RecordShards.streamableBytes(gz.toString(), null));

    // CIFAR cut inside record 2.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < 3; i++) {
      out.write(TestFiles.cifarRecord(i));
    }
    Path cifar = Files.write(dir.resolve("data_batch_1.bin"), Arrays.copyOf(out.toByteArray(), 3073 * 2 + 100));
    e = assertThrows(DataFormatException.class, () -> RecordShards.open(cifar.toString(), "cifar10", 0));
    assertOneLine(e, "data_batch_1.bin", "byte 6146");
    // A CIFAR label byte out of range (found on opening here: the first records of each shard are decoded).
    byte[] c = out.toByteArray();
    c[3073 * 2] = 42;
    Files.write(cifar, c);
    e = assertThrows(DataFormatException.class, () -> RecordShards.open(cifar.toString(), "cifar10", 0));
    assertOneLine(e, "data_batch_1.bin", "record 2 (byte 6146)");

    // CSV: a bad label names its line on opening; a bad feature names the record's byte when drawn.
    Path bad = Files.writeString(dir.resolve("bad.csv"), "1,2,0\n3,4,x\n");
    e = assertThrows(DataFormatException.class, () -> RecordShards.open(bad.toString(), null, 0));
    assertOneLine(e, "bad.csv", "line 2");
    // Row 300 (after the 256 parsed on opening) holds a bad value: 300 rows of "1,2,0\n" come before it.
    Files.writeString(bad, "1,2,0\n".repeat(300) + "3,oops,1\n");
    RecordShards csv = RecordShards.open(bad.toString(), null, 0);
    e = assertThrows(DataFormatException.class, () -> inFileOrder(csv));
    assertOneLine(e, "bad.csv", "record 300 (byte 1800), column 2");
    Files.write(bad, new byte[] {'1', ',', (byte) 0xff, ',', '0', '\n'});
    e = assertThrows(DataFormatException.class, () -> RecordShards.open(bad.toString(), null, 0));
    assertOneLine(e, "bad.csv", "not UTF-8");
  }

  private static void assertOneLine(Exception e, String... parts) {
    String m = e.getMessage();
    assertTrue(!m.contains("\n"), m);
    for (String p : parts) {
      assertTrue(m.contains(p), "'" + p + "' not in: " + m);
    }
  }

  @Test
  void thresholdCountsTheFilesThatWouldStream() throws Exception {
    Path csv = Files.writeString(dir.resolve("t.csv"), "1,0\n2,1\n");
    assertEquals(8, RecordShards.streamableBytes(csv.toString(), null));
    assertEquals(0, RecordShards.streamableBytes("gmm", null));
  }
}
