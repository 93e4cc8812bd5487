package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.models.Models;
import org.junit.jupiter.api.Test;

class ModelsCommandTest {
  @Test
  void listsEveryModelWithCifar100Counts() {
    DemoCommandTest.Run r = DemoCommandTest.tfkd("models");
    assertEquals(0, r.code(), r.err());
    for (Models.Entry e : Models.entries()) {
      assertTrue(r.out().contains(e.name() + " "), e.name() + " missing:\n" + r.out());
    }
    assertTrue(r.out().matches("(?s).*resnet56 +861,620 .*"), r.out());
    assertTrue(r.out().matches("(?s).*wrn_40_2 +2,255,156 .*"), r.out());
    assertTrue(r.out().matches("(?s).*resnet32x4 +7,433,860 .*"), r.out());
  }

  @Test
  void takesAnInputShapeAndClassCount() {
    DemoCommandTest.Run r = DemoCommandTest.tfkd("models", "--input", "28x28x1", "--classes", "10");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().matches("(?s).*lenet5 +61,706 .*"), r.out());
    assertTrue(r.out().matches("(?s).*cnn +144,266 .*"), r.out());
  }

  @Test
  void badShapeIsBadInput() {
    DemoCommandTest.Run r = DemoCommandTest.tfkd("models", "--input", "32x32");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("HxWxC"), r.err());
  }
}
