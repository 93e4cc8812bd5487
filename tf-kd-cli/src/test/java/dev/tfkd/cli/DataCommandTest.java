package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataCommandTest {
  @Test
  void summarisesBuiltinAndFileData(@TempDir Path dir) throws Exception {
    DemoCommandTest.Run r = DemoCommandTest.tfkd("data", "shapes28", "--split", "test");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("examples: 2000"), r.out());
    assertTrue(r.out().contains("example shape: [28, 28, 1]"), r.out());
    Path csv = Files.writeString(dir.resolve("t.csv"), "a,b,y\n1,2,0\n3,4,1\n");
    r = DemoCommandTest.tfkd("data", csv.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("class counts: [1, 1]"), r.out());
  }

  @Test
  void brokenFileIsOneLineAndExitTwo(@TempDir Path dir) throws Exception {
    Path csv = Files.writeString(dir.resolve("bad.csv"), "1,2,0\n1,2\n");
    DemoCommandTest.Run r = DemoCommandTest.tfkd("data", csv.toString());
    assertEquals(2, r.code());
    assertEquals("tfkd data: " + csv + ": line 2: row has 2 fields, expected 3 like the first row", r.err().strip());
  }
}
