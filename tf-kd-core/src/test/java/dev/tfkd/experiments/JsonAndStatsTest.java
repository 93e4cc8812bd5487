package dev.tfkd.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class JsonAndStatsTest {
  @Test
  void writesNestedJsonWithEscapesAndNullForNonFinite() {
    Json j = new Json().beginObject().field("a", "x\"y\n").field("b", 1.5).name("c").beginArray();
    j.value(1).value(Double.NaN).beginObject().field("d", 2).endObject().endArray().endObject();
    assertEquals("{\"a\":\"x\\\"y\\n\",\"b\":1.5,\"c\":[1,null,{\"d\":2}]}", j.toString());
  }

  @Test
  void meanAndSampleStandardDeviation() {
    assertArrayEquals(new double[] {2, 1}, McmiResult.stat(new double[] {1, 2, 3}), 1e-12);
    assertArrayEquals(new double[] {5, 0}, McmiResult.stat(new double[] {5}), 1e-12);
    double[] none = McmiResult.stat(new double[0]);
    assertEquals(Double.NaN, none[0]);
  }
}
