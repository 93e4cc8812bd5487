package dev.tfkd.io;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskSpaceTest {
  @TempDir Path dir;

  @Test
  void refusesMoreThanTheFileSystemHoldsWithOneLine() throws Exception {
    long usable = Files.getFileStore(dir).getUsableSpace();
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> DiskSpace.require(dir.resolve("not/yet/made"), usable + (1L << 30), "the checkpoints"));
    assertTrue(e.getMessage().startsWith(dir.resolve("not/yet/made").toString()), e.getMessage());
    assertTrue(e.getMessage().contains("the checkpoints need about"), e.getMessage());
    assertEquals(1, e.getMessage().lines().count());
    assertTrue(Files.notExists(dir.resolve("not")), "the check must not create anything");
  }

  @Test
  void acceptsWhatFits() {
    assertDoesNotThrow(() -> DiskSpace.require(dir, 1024, "a small run"));
  }

  @Test
  void estimateCoversCheckpointsWithSlotsAndTheExport() {
    // 1,000 weights: 4 kB; 3 copies (weights + 2 Adam slots) in 3 checkpoints, plus the export.
    assertEquals(4_000L * 9 + 4_000L, DiskSpace.trainingRunBytes(1_000));
  }

  @Test
  void aTinyModelAsksForATinyRunNotTheOldFlat64MiB() {
    // 506 parameters, 10 epochs, 20 features, 10 warm-up examples: checkpoints, export, logs and report.
    long bytes = DiskSpace.trainingRunBytes(506, 10, 20, 10) + DiskSpace.MARGIN;
    assertTrue(bytes < (4L << 20), "a 506-parameter run asks for " + bytes + " bytes");
    assertTrue(bytes > DiskSpace.trainingRunBytes(506), "the logs and the report are counted");
  }

  @Test
  void aLargeModelAsksInProportion() {
    long small = DiskSpace.trainingRunBytes(1_000, 10, 20, 10);
    long large = DiskSpace.trainingRunBytes(1_000_000, 10, 20, 10);
    assertEquals(40_000_000L - 40_000L, large - small);
  }
}
