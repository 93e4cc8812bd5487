package dev.tfkd.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  enum Kind { RAW_PIXELS }

  record Part(String name, float[] shape, Kind kind) {}

  @Test
  void indentsObjectsAndKeepsScalarArraysOnOneLine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("part", new Part("a\tb", new float[] {2, 0.001f}, Kind.RAW_PIXELS));
    m.put("values", new double[] {1, 2.5, Double.POSITIVE_INFINITY, 1e-7});
    m.put("rows", List.of(Map.of("x", 1L)));
    m.put("empty", Map.of());
    assertEquals(
        """
        {
          "part": {
            "name": "a\\tb",
            "shape": [2, 0.001],
            "kind": "raw_pixels"
          },
          "values": [1, 2.5, null, 1.0e-7],
          "rows": [
            {
              "x": 1
            }
          ],
          "empty": {}
        }
        """,
        Json.write(m));
  }

  @Test
  void writesOneLineWithoutSpaces() {
    Json.Members j = Json.object().put("s", (Object) null).put("lr", 0.001f).put("ok", true).put("n", 3);
    j.put("inner", Json.object().put("ids", new int[] {1, 2}));
    // A float member is widened to double, so it carries the double's digits.
    assertEquals("{\"s\":null,\"lr\":0.0010000000474974513,\"ok\":true,\"n\":3,\"inner\":{\"ids\":[1,2]}}", j.toString());
    assertEquals("\"\\u0001\\\\\"", Json.quoted("\u0001\\"));
  }
}
