package dev.tfkd.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;

class EventFileWriterTest {
  @TempDir Path dir;

  @Test
  void crcMatchesTheCastagnoliCheckValue() {
    // The standard check value of CRC-32C over "123456789".
    assertEquals(0xE3069283, TfRecordReader.crc32c("123456789".getBytes(StandardCharsets.US_ASCII)));
    byte[] b = "123456789".getBytes(StandardCharsets.US_ASCII);
    assertEquals(TfRecordReader.mask(0xE3069283), TfRecord.maskedCrc32c(b, 0, b.length));
  }

  @Test
  void writesVersionThenScalarsThatAnIndependentReaderAccepts() throws IOException {
    Path file;
    try (EventFileWriter w = EventFileWriter.create(dir, "host", "1")) {
      w.scalar("loss/total", 1, 2.5);
      w.scalar("accuracy/train", 2, 0.75);
      w.restart(2);
      file = w.file();
    }
    assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."));
    List<byte[]> records = TfRecordReader.read(file);
    assertEquals(4, records.size());
    assertEquals("brain.Event:2", Event.parseFrom(records.get(0)).getFileVersion());
    Event first = Event.parseFrom(records.get(1));
    assertEquals(1, first.getStep());
    assertEquals("loss/total", first.getSummary().getValue(0).getTag());
    assertEquals(2.5f, first.getSummary().getValue(0).getSimpleValue());
    Event second = Event.parseFrom(records.get(2));
    assertEquals(0.75f, second.getSummary().getValue(0).getSimpleValue());
    assertTrue(Event.parseFrom(records.get(3)).hasSessionLog());
  }

  @Test
  void independentReaderRejectsAFlippedByte() throws IOException {
    Path file;
    try (EventFileWriter w = EventFileWriter.create(dir, "host", "2")) {
      w.scalar("x", 1, 1.0);
      file = w.file();
    }
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 6] ^= 1;
    Files.write(file, bytes);
    assertThrows(IOException.class, () -> TfRecordReader.read(file));
  }
}
