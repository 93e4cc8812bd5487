package dev.tfkd.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tfkd.io.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonAndStatsTest {
  @Test
  void writesNestedJsonWithEscapesAndNullForNonFinite() {
    Json.Members j = Json.object().put("a", "x\"y\n").put("b", 1.5);
    j.put("c", List.of(1, Double.NaN, Json.object().put("d", 2)));
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
