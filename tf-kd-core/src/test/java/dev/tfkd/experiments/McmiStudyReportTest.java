package dev.tfkd.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.io.Json;
import dev.tfkd.io.JsonReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report is made from cell files alone: hand-written cells give known tables, choices and paired statistics. */
class McmiStudyReportTest {
  private static void cell(StudyCells cells, String id, Json.Members j) {
    cells.finish(id, j.put("cell", id).toString());
  }

  private static Json.Members student(long seed, double accuracy) {
    return Json.object().put("kind", "student").put("seed", seed).put("accuracy", accuracy);
  }

  private static Path study(Path out) throws Exception {
    Files.writeString(out.resolve("study.json"), Json.object()
        .put("train", "t").put("trainExamples", 100).put("test", "e").put("testExamples", 50).put("posterior", false)
        .put("teacher", "lenet5").put("teacherEpochs", 3).put("teacherOptimizer",
            "OptimizerConfig[kind=SGD, learningRate=0.05, momentum=0.9, weightDecay=5.0E-4, schedule=COSINE]").put("batchSize", 8)
        .put("centroids", "once").put("student", "mlp").put("studentEpochs", 2).put("studentOptimizer", "adam")
        .put("method", "kl").put("lambdas", List.of(0.1, 0.3, 0.5)).put("finetuneLrs", List.of(0.005, 0.05))
        .put("finetuneEpochs", List.of(5)).put("fractions", List.of(0.05)).put("omitClasses", List.of(3))
        .put("seeds", 3).put("firstSeed", 1).put("selectSeeds", 1).put("validationSplit", 0.2)
        .put("selectFraction", 0.05).toString());
    StudyCells cells = new StudyCells(out.resolve("cells"));
    String v = "validation/seed-1/";
    cell(cells, v + "student-alone", student(1, 0.6));
    cell(cells, v + "student-kd-mll", student(1, 0.7));
    double[][] mcmi = {{0.80, 0.85, 0.85}, {0.83, 0.84, 0.80}}; // [lr][lambda]: 0.85 twice at lr 0.005, first wins
    for (int lr = 0; lr < 2; lr++) {
      String l = lr == 0 ? "0.005" : "0.05";
      cell(cells, v + "student-kd-mll-ft0-l0-lr" + l + "-e5", student(1, lr == 0 ? 0.70 : 0.75));
      String[] lambdas = {"0.1", "0.3", "0.5"};
      for (int k = 0; k < 3; k++) {
        cell(cells, v + "student-kd-mcmi-l" + lambdas[k] + "-lr" + l + "-e5", student(1, mcmi[lr][k]));
      }
    }
    double[] mll = {0.78, 0.80, 0.82};
    double[] ours = {0.80, 0.82, 0.81};
    for (int s = 1; s <= 3; s++) {
      String d = "test/seed-" + s + "/";
      for (String t : McmiStudy.TEACHERS) {
        cell(cells, d + "teacher-" + t, Json.object().put("kind", "teacher").put("seed", s).put("trainAccuracy", 0.99)
            .put("trainCmi", t.equals("mcmi") ? 0.05 + 0.01 * s : 0.03).put("accuracy", 0.9).put("nll", 0.3)
            .put("ece", 0.02).put("cmi", 0.2).put("bcpdError", Double.NaN).put("klToPosterior", Double.NaN));
      }
      cell(cells, d + "few-shot-0.05/kd-mll", student(s, mll[s - 1]));
      cell(cells, d + "few-shot-0.05/kd-mcmi", student(s, ours[s - 1]));
    }
    cell(cells, "test/seed-1/zero-shot-3/kd-mcmi", student(1, 0.9).put("omittedAccuracy", 0.40));
    cell(cells, "test/seed-1/zero-shot-3/kd-mll", student(1, 0.9).put("omittedAccuracy", 0.30));
    return out;
  }

  @Test
  void choosesTheBestValidationSettingWithTiesToTheFirst(@TempDir Path out) throws Exception {
    Map<String, Object> sel = JsonReader.object(McmiStudyReport.load(study(out)).selectionJson());
    assertEquals(0.3, JsonReader.number(sel, "lambda"), 1e-9);
    assertEquals(0.005, JsonReader.number(sel, "finetuneLr"), 1e-9);
    assertEquals(5, JsonReader.number(sel, "finetuneEpochs"));
    assertEquals(0.05, JsonReader.number(sel, "controlFinetuneLr"), 1e-9);
  }

  @Test
  void tablesCarryPairedStatisticsRecomputedFromTheCells(@TempDir Path out) throws Exception {
    McmiStudyReport report = McmiStudyReport.load(study(out));
    String md = report.markdown();
    // kd-mcmi - kd-mll per seed: +0.02, +0.02, -0.01: mean 1.00 points, sd 1.73, t_{0.975,2} = 4.3027.
    assertTrue(md.contains("| 5% | - | 80.00 ± 2.00 | - | 81.00 ± 1.00 | +1.00 ± 1.73 [-3.30, +5.30] 2/3 > 0 | - |"), md);
    // One seed of zero-shot: no spread is invented.
    assertTrue(md.contains("| 3 | - | 30.00 (n = 1) | - | 40.00 (n = 1) | +10.00 (n = 1) | - |"), md);
    // MCMI train CMI 0.06, 0.07, 0.08 against 0.03: +0.03, +0.04, +0.05.
    assertTrue(md.contains("| train CMI | +0.0400 ± 0.0100 [+0.0152, +0.0648] 3/3 > 0 |"), md);
    assertTrue(md.contains("Test cells finished: 17 of 33"), md);
    // The optimizers in words; a form the report does not know is printed as study.json holds it.
    assertTrue(md.contains("(MLL: 3 epochs, SGD, lr 0.05, momentum 0.9, weight decay 5.0E-4, cosine schedule, batch 8)"), md);
    assertTrue(md.contains("student mlp (adam, 2 full-data epochs"), md);
    assertFalse(md.contains("BCPD"), "no posterior, no BCPD column");
    assertTrue(report.validationMarkdown().contains("| mcmi | 0.3 | 0.005 | 5 | - | - | - | - | - | 85.00 (n = 1) |"),
        report.validationMarkdown());
    report.writeTo(out);
    assertEquals(md, Files.readString(out.resolve("results.md")));
    assertThrows(IllegalArgumentException.class, () -> McmiStudyReport.load(out.resolve("cells")));
  }
}
