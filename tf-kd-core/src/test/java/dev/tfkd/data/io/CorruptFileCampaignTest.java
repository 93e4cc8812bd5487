package dev.tfkd.data.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.io.DataSources;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corrupt-file campaign ({@link CorruptFiles}): well over a hundred inputs across IDX, gzip IDX, CIFAR-10/100,
 * CSV/TSV, TFRecord and image folders (PNG, JPEG, GIF, BMP), each with one defect. None may be accepted: each must be
 * refused with one {@link DataFormatException} whose one-line message starts with the file at fault.
 */
class CorruptFileCampaignTest {
  @TempDir Path dir;

  @TestFactory
  Stream<DynamicTest> everyCorruptFileIsRefusedNamingIt() throws IOException {
    return CorruptFiles.all(dir).stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> refused(c)));
  }

  static DataFormatException refused(CorruptFiles.Case c) {
    // Generous on a loaded machine; each of these files is a few hundred bytes.
    return assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () -> {
          DataFormatException e =
              assertThrows(
                  DataFormatException.class,
                  () -> DataSources.load(c.data().toString(), c.format(), DataSources.Split.TRAIN),
                  c.name());
          assertEquals(1, e.getMessage().lines().count(), e.getMessage());
          assertTrue(e.getMessage().startsWith(c.file().toString() + ":"), c.name() + ": " + e.getMessage());
          return e;
        });
  }

  @Test
  void theCampaignCoversEveryFormatWithOverAHundredCases() throws IOException {
    List<CorruptFiles.Case> cases = CorruptFiles.all(dir);
    Map<String, Integer> perFormat = new TreeMap<>();
    for (CorruptFiles.Case c : cases) {
      perFormat.merge(c.name().split(" ")[0], 1, Integer::sum);
    }
    assertTrue(cases.size() > 100, "only " + cases.size());
    for (String f : new String[] {"idx", "idx.gz", "cifar10", "cifar100", "csv", "tfrecord", "png", "jpeg"}) {
      assertTrue(perFormat.getOrDefault(f, 0) >= 1, f + " missing from " + perFormat);
    }
  }
}
