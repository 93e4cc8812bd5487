package dev.tfkd.losses;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.losses.DivergencesTest.Case;
import dev.tfkd.testing.Assertions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Regression guard: the graph's values for every spec of {@link DivergencesTest#specs()} on two fixed seeded
 * batches, against {@code golden-divergences.tsv} (spec, case, example, value). The file was written from the graph
 * after the values had passed the float64 reference comparison, so a changed default, formula or reduction shows up
 * here even when graph and reference were changed together. Tolerance: 1e-5 relative plus 1e-6 absolute (float32
 * across CPUs and oneDNN builds).
 *
 * <p>To regenerate after an intended change, run the whole {@code DivergencesTest} class with {@code
 * -Dtfkd.golden.write=/absolute/path/to/tf-kd-core/src/test/resources/dev/tfkd/losses/golden-divergences.tsv}, and
 * say why in the commit.
 */
final class Golden {
  private Golden() {}

  private static final String RESOURCE = "golden-divergences.tsv";
  private static final String WRITE = System.getProperty("tfkd.golden.write");
  private static final Map<String, Double> WRITTEN = new TreeMap<>();
  private static Map<String, Double> golden;

  static List<Case> cases() {
    return List.of(DivergencesTest.randomCase(71, 4, 5, 2, 3), DivergencesTest.randomCase(72, 2, 3, 1, 1));
  }

  static synchronized void check(String spec, GraphHarness h) {
    List<Case> cases = cases();
    for (int c = 0; c < cases.size(); c++) {
      Case cs = cases.get(c);
      double[] v = h.run(cs.s(), cs.t(), cs.y(), cs.epoch(), DivergencesTest.ones(cs.b())).values();
      for (int i = 0; i < v.length; i++) {
        String key = spec + "\t" + c + "\t" + i;
        if (WRITE != null) {
          // A non-finite value would make the golden file a record of a bug.
          assertTrue(Double.isFinite(v[i]), key.replace('\t', ' ') + " is " + v[i]);
          WRITTEN.put(key, v[i]);
          continue;
        }
        Double g = load().get(key);
        assertNotNull(g, "no golden value for " + key.replace('\t', ' ') + "; regenerate the golden file (see Golden)");
        // NaN is never close (not even to a NaN in the file), so a loss that turns NaN fails here.
        assertAllClose(v[i], g, Assertions.FLOAT32, key.replace('\t', ' ') + " against its golden value");
      }
    }
  }

  static synchronized void writeIfAsked() throws IOException {
    if (WRITE == null) {
      return;
    }
    assertTrue(!WRITTEN.isEmpty(), "nothing to write");
    StringBuilder b = new StringBuilder("# spec\tcase\texample\tvalue (float32 graph values; see Golden.java)\n");
    WRITTEN.forEach((k, v) -> b.append(k).append('\t').append(String.format(Locale.ROOT, "%.9g", v)).append('\n'));
    Files.writeString(Path.of(WRITE), b.toString(), StandardCharsets.UTF_8);
  }

  private static Map<String, Double> load() {
    if (golden != null) {
      return golden;
    }
    Map<String, Double> m = new TreeMap<>();
    try (InputStream in = Golden.class.getResourceAsStream(RESOURCE)) {
      assertNotNull(in, RESOURCE + " is missing");
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        int last = line.lastIndexOf('\t');
        m.put(line.substring(0, last), Double.parseDouble(line.substring(last + 1)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    golden = m;
    return m;
  }
}
