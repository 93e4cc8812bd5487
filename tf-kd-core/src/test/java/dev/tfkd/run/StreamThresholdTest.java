package dev.tfkd.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.config.ConfigException;
import dev.tfkd.config.DataConfig;
import dev.tfkd.data.io.CsvShards;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training files above {@code data.stream_above_mb} stream by themselves; below it they are read into memory. */
class StreamThresholdTest {
  @TempDir Path dir;

  @Test
  void filesAboveTheThresholdStream() throws Exception {
    // About 1.3 MiB of CSV: 120,000 rows of "0.25,0.5,1\n" (11 bytes).
    Path csv = Files.writeString(dir.resolve("big.csv"), "0.25,0.5,1\n".repeat(120_000) + "0.5,0.25,0\n");
    DataConfig atOne = DataConfig.newBuilder().setTrain(csv.toString()).setTest(csv.toString()).setStreamAboveMb(1).build();
    DataConfig atTwo = atOne.toBuilder().setStreamAboveMb(2).build();
    assertEquals(1L << 20, RunData.streamAboveBytes(atOne));
    assertTrue(RunData.streams(atOne));
    assertFalse(RunData.streams(atTwo));
    assertTrue(RunData.streams(atTwo.toBuilder().setStream(true).build()));

    RunData streamed = RunData.load(atOne, 1);
    assertNotNull(streamed.stream());
    assertTrue(streamed.stream().shards() instanceof CsvShards);
    assertEquals(120_001, streamed.trainSize());
    assertEquals(2, streamed.train().numClasses());
    assertNull(RunData.load(atTwo, 1).stream());
    assertEquals(120_001, RunData.load(atTwo, 1).trainSize());

    // A validation split cannot hold out part of a stream: the message says how to read it into memory instead.
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> RunData.load(atOne.toBuilder().clearTest().setValidationSplit(0.1f).build(), 1));
    assertTrue(e.getMessage().contains("data.stream_above_mb"), e.getMessage());
    assertThrows(ConfigException.class, () -> RunData.streamAboveBytes(atOne.toBuilder().setStreamAboveMb(-1).build()));
  }
}
