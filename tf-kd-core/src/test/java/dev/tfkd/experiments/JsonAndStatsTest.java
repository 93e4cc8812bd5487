package dev.tfkd.experiments;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tfkd.io.Json;
import dev.tfkd.testing.Assertions;
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
    assertAllClose(McmiResult.stat(new double[] {1, 2, 3}), new double[] {2, 1}, 0, 1e-12);
    assertAllClose(McmiResult.stat(new double[] {5}), new double[] {5, 0}, 0, 1e-12);
    double[] none = McmiResult.stat(new double[0]);
    assertEquals(Double.NaN, none[0]);
  }
}
