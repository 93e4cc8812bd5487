package dev.tfkd.cli;

import static dev.tfkd.cli.DemoCommandTest.tfkd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.io.AtomicFiles;
import dev.tfkd.io.JsonReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tfkd experiment mcmi-study} end to end on tiny models: cells, resume, report-only, posterior CSV. */
class McmiStudyCommandTest {
  private static List<String> args(Path out, Path posterior) {
    List<String> a = new ArrayList<>(List.of(
        "experiment", "mcmi-study", "--data", "shapes28", "--train-subset", "600", "--teacher-model", "mlp:16",
        "--student-model", "mlp:4", "--teacher-epochs", "1", "--student-epochs", "1", "--lambda", "0.1,0.3",
        "--finetune-lr", "0.05", "--finetune-epochs", "1", "--fractions", "0.05", "--omit-classes", "2", "--seeds", "2",
        "--threads", "1", "--out", out.toString()));
    if (posterior != null) {
      a.addAll(List.of("--posterior", posterior.toString()));
    }
    return a;
  }

  private static Map<String, Object> cell(Path out, String id) throws Exception {
    return JsonReader.object(Files.readString(out.resolve("cells").resolve(id + ".json")));
  }

  @Test
  void runsEveryCellResumesAKilledCellAndRemakesTheTablesFromTheFiles(@TempDir Path root) throws Exception {
    // shapes28 has no known posterior: a user's CSV (here: uniform over the 10 classes) brings BCPD error and KL.
    Dataset test = DataSources.load("shapes28", null, DataSources.Split.TEST);
    Path csv = root.resolve("posterior.csv");
    Files.writeString(csv, "0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1\n".repeat(test.size()));
    Path out = root.resolve("study");
    DemoCommandTest.Run r = tfkd(args(out, csv).toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    String results = Files.readString(out.resolve("results.md"));
    assertTrue(results.contains("Test cells finished: 22 of 22"), results);
    for (String s : new String[] {"| BCPD error |", "### Validation", "| mcmi | 0.3 | 0.05 | 1 |", "Chosen", "| 5% |", "MCMI − control"}) {
      assertTrue(results.contains(s), s + " missing from\n" + results);
    }
    // With a uniform posterior, KL(posterior || teacher) = -ln 10 - mean_i (1/10) sum_k ln q_ik >= 0, and BCPD error
    // is the spread of the teacher's probabilities around 1/10: both finite and positive.
    Map<String, Object> mcmi = cell(out, "test/seed-1/teacher-mcmi");
    assertTrue(JsonReader.number(mcmi, "bcpdError") > 0 && JsonReader.number(mcmi, "klToPosterior") > 0, mcmi.toString());
    assertTrue(Files.readString(out.resolve("validation.md")).contains("Test data not used"));
    String sel = Files.readString(out.resolve("selection.json"));
    assertTrue(sel.contains("\"lambda\":"), sel);

    // A killed study: one finished cell lost, its teachers' checkpoints gone too. The rerun redoes only that cell
    // (retraining the teachers it needs, same seeds) and gets the same numbers.
    String id = "test/seed-2/few-shot-0.05/kd-mcmi";
    Map<String, Object> before = cell(out, id);
    Files.delete(out.resolve("cells").resolve(id + ".json"));
    AtomicFiles.deleteRecursively(out.resolve("work"));
    Path untouched = out.resolve("cells/test/seed-1/few-shot-0.05/alone.json");
    FileTime stamp = FileTime.fromMillis(1_000_000L);
    Files.setLastModifiedTime(untouched, stamp);
    r = tfkd(args(out, csv).toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    Map<String, Object> after = cell(out, id);
    for (String k : new String[] {"accuracy", "nll", "trainExamples", "epochs"}) {
      assertEquals(before.get(k), after.get(k), k);
    }
    assertEquals(stamp, Files.getLastModifiedTime(untouched), "finished cells are not run again");
    assertTrue(r.out().contains("  cell " + id) && !r.out().contains("  cell test/seed-1/"), r.out());

    // The tables regenerate from the files alone.
    Files.delete(out.resolve("results.md"));
    r = tfkd("experiment", "mcmi-study", "--out", out.toString(), "--report-only");
    assertEquals(0, r.code(), r.err());
    assertEquals(results, Files.readString(out.resolve("results.md")));
    try (Stream<Path> s = Files.walk(out)) {
      assertFalse(s.anyMatch(p -> p.toString().endsWith(".claim")), "no claim is left behind");
    }

    // Another configuration in the same directory is refused with one line, exit 2.
    List<String> other = args(out, csv);
    other.set(other.indexOf("--seeds") + 1, "3");
    r = tfkd(other.toArray(String[]::new));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("another configuration"), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }

  @Test
  void runsOnFashionMnistWhereItIsInstalled(@TempDir Path root) throws Exception {
    Path fashion = dev.tfkd.testing.FashionMnist.find().orElse(null);
    org.junit.jupiter.api.Assumptions.assumeTrue(fashion != null, "Fashion-MNIST is not installed (dataset-fashion-mnist)");
    Path out = root.resolve("fashion");
    DemoCommandTest.Run r =
        tfkd(
            "experiment", "mcmi-study", "--data", fashion.resolve("train-images-idx3-ubyte.gz").toString(), "--test",
            fashion.resolve("t10k-images-idx3-ubyte.gz").toString(), "--train-subset", "500", "--teacher-model", "mlp:8",
            "--student-model", "mlp:4", "--teacher-epochs", "1", "--student-epochs", "1", "--lambda", "0.1",
            "--finetune-lr", "0.05", "--finetune-epochs", "1", "--fractions", "0.1", "--omit-classes", "none", "--seeds",
            "1", "--threads", "1", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    String study = Files.readString(out.resolve("study.json"));
    assertTrue(study.contains("\"trainExamples\":500") && study.contains("\"testExamples\":10000"), study);
    assertTrue(Files.readString(out.resolve("results.md")).contains("Test cells finished: 7 of 7"));
  }

  @Test
  void featureVectorsGetAnMlpTeacherByDefaultAndTheirPosteriorIsScored(@TempDir Path root) throws Exception {
    // A user's tabular data: no --teacher-model (lenet5 takes images), the known posterior as a CSV.
    Dataset test = DataSources.load("gmm", null, DataSources.Split.TEST);
    int k = test.numClasses();
    StringBuilder rows = new StringBuilder();
    for (int i = 0; i < test.size(); i++) {
      for (int c = 0; c < k; c++) {
        rows.append(c == 0 ? "" : ",").append(test.posterior()[i * k + c]);
      }
      rows.append('\n');
    }
    Path csv = root.resolve("posterior.csv");
    Files.writeString(csv, rows);
    Path out = root.resolve("gmm");
    DemoCommandTest.Run r =
        tfkd(
            "experiment", "mcmi-study", "--data", "gmm", "--train-subset", "600", "--student-model", "mlp:4",
            "--teacher-epochs", "1", "--student-epochs", "1", "--lambda", "0.1", "--finetune-lr", "0.05",
            "--finetune-epochs", "1", "--fractions", "0.1", "--omit-classes", "none", "--seeds", "1", "--threads", "1",
            "--posterior", csv.toString(), "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    String study = Files.readString(out.resolve("study.json"));
    assertTrue(study.contains("\"teacher\":\"mlp-20-256-256-10\"") && study.contains("\"posterior\":true"), study);
    Map<String, Object> teacher = cell(out, "test/seed-1/teacher-mll");
    assertTrue(((Number) teacher.get("bcpdError")).doubleValue() > 0, teacher.toString());
  }

  @Test
  void badInputIsOneLineAndExitTwo(@TempDir Path root) throws Exception {
    DemoCommandTest.Run r = tfkd("experiment", "mcmi-study", "--fractions", "0", "--out", root.resolve("a").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--fractions"), r.err());
    r = tfkd("experiment", "mcmi-study", "--omit-classes", "x", "--out", root.resolve("b").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--omit-classes"), r.err());
    Path csv = root.resolve("p.csv");
    Files.writeString(csv, "0.5,0.5\n");
    r = tfkd("experiment", "mcmi-study", "--posterior", csv.toString(), "--out", root.resolve("c").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("p.csv") && r.err().contains("columns"), r.err());
    assertFalse(Files.exists(root.resolve("c")), "refused input writes nothing");
    r = tfkd("experiment", "mcmi-study", "--report-only", "--out", root.resolve("none").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("holds no study"), r.err());
  }

  @Test
  void theExperimentRunsInsideAnotherMethodAndReadsAPosterior(@TempDir Path root) throws Exception {
    Dataset test = DataSources.load("shapes28", null, DataSources.Split.TEST);
    Path csv = root.resolve("posterior.csv");
    Files.writeString(csv, "p0,p1,p2,p3,p4,p5,p6,p7,p8,p9\n" + "0,0,0,0,0,0,0,0,0,1\n".repeat(test.size()));
    DemoCommandTest.Run r =
        tfkd(
            "experiment", "mcmi", "--data", "shapes28", "--teacher-model", "mlp:8", "--student-model", "mlp:4",
            "--teacher-epochs", "1", "--finetune-epochs", "1", "--student-epochs", "1", "--few-shot-epochs", "1",
            "--seeds", "1", "--method", "tvd", "--posterior", csv.toString(), "--threads", "1", "--out", root.toString());
    assertEquals(0, r.code(), r.err());
    String json = Files.readString(root.resolve("results.json"));
    assertTrue(json.contains("tvd"), json);
    assertTrue(Files.readString(root.resolve("results.md")).contains("BCPD error"));
  }
}
