package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.testing.FashionMnist;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/idx-slice.sh}, which the README's Fashion-MNIST walk-through uses to give teacher, student and
 * validation their own parts of the training images: the slice holds exactly the records asked for, and tf-kd reads
 * it. Skips where Fashion-MNIST is not installed.
 */
class FashionMnistSliceTest {
  @TempDir Path dir;

  private static Path script() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path s = p.resolve("scripts/idx-slice.sh");
      if (Files.isRegularFile(s)) {
        return s;
      }
    }
    throw new IllegalStateException("scripts/idx-slice.sh not found above " + Path.of("").toAbsolutePath());
  }

  private static int sh(String... args) throws Exception {
    String[] all = new String[args.length + 2];
    all[0] = "sh";
    all[1] = script().toString();
    System.arraycopy(args, 0, all, 2, args.length);
    Process p = new ProcessBuilder(all).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int code = p.waitFor();
    if (code != 0) {
      System.err.println(out);
    }
    return code;
  }

  @Test
  void aSliceHoldsExactlyTheRecordsAskedForAndTfkdReadsIt() throws Exception {
    Path fashion = FashionMnist.find().orElse(null);
    assumeTrue(fashion != null, "needs Fashion-MNIST in " + FashionMnist.DEFAULT_DIR + " (apt-get install dataset-fashion-mnist)");
    Path images = dir.resolve("student/train-images-idx3-ubyte.gz");
    for (String kind : new String[] {"images-idx3", "labels-idx1"}) {
      assertEquals(0, sh(fashion.resolve("train-" + kind + "-ubyte.gz").toString(),
          dir.resolve("student/train-" + kind + "-ubyte.gz").toString(), "50000", "2000"));
    }
    Dataset full = DataSources.load(fashion.toString(), null, DataSources.Split.TRAIN);
    Dataset want = full.select(IntStream.range(50_000, 52_000).toArray(), "want");
    Dataset got = DataSources.load(images.toString(), null, DataSources.Split.TRAIN);
    assertEquals(2_000, got.size());
    assertArrayEquals(want.labels(), got.labels());
    assertTrue(Arrays.equals(want.features(), got.features()), "pixels of records 50000..51999");
    var r = DemoCommandTest.tfkd("data", images.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("examples: 2000"), r.out());
    // Past the end: refused, nothing written.
    assertEquals(2, sh(fashion.resolve("train-labels-idx1-ubyte.gz").toString(), dir.resolve("bad.gz").toString(),
        "59000", "2000"));
    assertTrue(Files.notExists(dir.resolve("bad.gz")));
  }
}
