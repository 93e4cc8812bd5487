package dev.tfkd.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonReaderTest {
  @Test
  void readsWhatTheWriterWrites() {
    Json.Members j = Json.object().put("s", "a\"b\\c\n\u00e9").put("x", 0.25).put("n", Double.NaN).put("t", true)
        .put("l", List.of(1, -2.5e-7, "z")).put("o", Json.object().put("k", 3));
    for (String text : new String[] {j.toString(), Json.write(j)}) {
      Map<String, Object> m = JsonReader.object(text);
      assertEquals("a\"b\\c\n\u00e9", m.get("s"));
      assertEquals(0.25, JsonReader.number(m, "x"));
      assertNull(m.get("n"));
      assertTrue(Double.isNaN(JsonReader.number(m, "n")), "NaN is written as null and read back as NaN");
      assertTrue(Double.isNaN(JsonReader.number(m, "absent")));
      assertEquals(Boolean.TRUE, m.get("t"));
      assertEquals(List.of(1.0, -2.5e-7, "z"), m.get("l"));
      assertEquals(Map.of("k", 3.0), m.get("o"));
    }
    assertEquals("\u0041", JsonReader.parse("\"\\u0041\""));
  }

  @Test
  void refusesMalformedText() {
    for (String bad : new String[] {"{", "{\"a\":}", "[1,]", "{\"a\":1} x", "\"open", "nul", "{a:1}"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonReader.parse(bad), bad);
      assertTrue(e.getMessage().contains("offset"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> JsonReader.object("[1]"));
  }
}
