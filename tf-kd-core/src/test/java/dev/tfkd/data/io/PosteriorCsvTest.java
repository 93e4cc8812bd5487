package dev.tfkd.data.io;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PosteriorCsvTest {
  private static Dataset threeExamples() {
    return new Dataset("d", new float[] {0, 1, 2}, new int[] {0, 1, 2}, new long[] {1}, 3, null);
  }

  @Test
  void attachesThePosteriorAndEvaluationsReportBcpdErrorAndKl(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("p.csv");
    // A header, a comment, and a row that sums to 1.0005 (renormalised).
    Files.writeString(csv, "p0,p1,p2\n# comment\n0.7,0.2,0.1\n0,1,0\n0.2,0.3,0.5005\n");
    Dataset d = PosteriorCsv.attach(csv, threeExamples());
    assertTrue(d.hasPosterior());
    assertFalse(threeExamples().hasPosterior());
    double[] p = d.posterior();
    assertAllClose(new double[] {p[6], p[7], p[8]}, new double[] {0.2 / 1.0005, 0.3 / 1.0005, 0.5005 / 1.0005}, 1e-15, 0);

    float[] logits = {1, 0, 0, 0, 2, 0, 0, 0, 0};
    Evaluation ev = Metrics.evaluate(logits, d);
    // Independent float64: BCPD = mean_i sum_k (q_ik - p_ik)^2; KL = mean_i sum_k p_ik log(p_ik / q_ik).
    double bcpd = 0;
    double kl = 0;
    for (int i = 0; i < 3; i++) {
      double z = 0;
      for (int k = 0; k < 3; k++) {
        z += Math.exp(logits[i * 3 + k]);
      }
      for (int k = 0; k < 3; k++) {
        double q = Math.exp(logits[i * 3 + k]) / z;
        double pk = p[i * 3 + k];
        bcpd += (q - pk) * (q - pk);
        kl += pk > 0 ? pk * Math.log(pk / q) : 0;
      }
    }
    assertAllClose(new double[] {ev.bcpdError(), ev.klToPosterior()}, new double[] {bcpd / 3, kl / 3}, 1e-9, 1e-12);
  }

  @Test
  void refusesFilesThatDoNotFitTheEvaluationData(@TempDir Path dir) throws Exception {
    String[][] cases = {
      {"0.5,0.5\n0,1\n1,0\n", "line 1: 2 columns, expected one per class (3)"},
      {"1,0,0\n0,1,0\n", "2 rows, expected one per evaluation example (3)"},
      {"1,0,0\n0,1,0\n0,0,1\n1,0,0\n", "line 4: more rows than the 3 evaluation examples"},
      {"1,0,0\n0.5,0.6,0\n0,0,1\n", "line 2: the row sums to 1.100000, not 1"},
      {"1,0,0\n-0.1,1.1,0\n0,0,1\n", "line 2, column 1: -0.1 is not a probability"},
      {"1,0,0\n0,x,1\n0,0,1\n", "line 2, column 2: 'x' is not a number"},
    };
    for (String[] c : cases) {
      Path csv = dir.resolve("bad.csv");
      Files.writeString(csv, c[0]);
      DataFormatException e = assertThrows(DataFormatException.class, () -> PosteriorCsv.attach(csv, threeExamples()));
      assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("bad.csv"), e.getMessage());
    }
    DataFormatException missing =
        assertThrows(DataFormatException.class, () -> PosteriorCsv.attach(dir.resolve("none.csv"), threeExamples()));
    assertTrue(missing.getMessage().contains("none.csv"));
    assertEquals(9, PosteriorCsv.read(writeUniform(dir), 3, 3).length);
  }

  private static Path writeUniform(Path dir) throws Exception {
    Path csv = dir.resolve("u.csv");
    Files.writeString(csv, "0.3333333,0.3333333,0.3333334\n".repeat(3));
    return csv;
  }
}
