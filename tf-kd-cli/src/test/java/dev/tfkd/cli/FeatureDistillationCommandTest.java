package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Shapes;
import dev.tfkd.data.io.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.GraphOperation;
import org.tensorflow.SavedModelBundle;

/**
 * Feature distillation from the command line: a ResNet-8 teacher trained here on the built-in shapes (16x16 grey,
 * 4 classes, written as IDX files), exported, and a ResNet-8 student distilled from it with each feature loss for
 * two epochs; the student must learn (test accuracy well above the 0.25 of chance). The fitnet run's export holds
 * no adapter variable while its checkpoint does.
 */
class FeatureDistillationCommandTest {
  @TempDir static Path root;
  static Path data;
  static Path teacher;

  @BeforeAll
  static void trainTeacher() throws Exception {
    data = root.resolve("data");
    Files.createDirectories(data);
    Shapes shapes = new Shapes(16, 16, 1, 4);
    TestFiles.writeIdx(shapes.sample(600, 1, "s"), data, "train");
    TestFiles.writeIdx(shapes.sample(300, 2, "s"), data, "t10k");
    DemoCommandTest.Run r =
        DemoCommandTest.tfkd(
            "train-teacher", "--train", data.resolve("train-images-idx3-ubyte.gz").toString(), "--test", data.toString(),
            "--model", "resnet8", "--epochs", "4", "--batch-size", "32", "--threads", "1", "--run-dir",
            root.resolve("teacher-run").toString(), "--export-dir", root.resolve("export").toString());
    assertEquals(0, r.code(), r.err());
    teacher = root.resolve("export").resolve("teacher-mll");
  }

  static DemoCommandTest.Run distill(String run, String loss, String... more) {
    String[] base = {
      "distill", "--teacher", teacher.toString(), "--train", data.resolve("train-images-idx3-ubyte.gz").toString(),
      "--test", data.toString(), "--model", "resnet8", "--epochs", "2", "--batch-size", "32", "--threads", "1",
      "--loss", loss, "--run-dir", root.resolve(run).toString(), "--export-dir", root.resolve("export-" + run).toString()
    };
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return DemoCommandTest.tfkd(all);
  }

  static double studentAccuracy(String run) throws Exception {
    return studentAccuracy(root, run);
  }

  /** The student's test accuracy in {@code root/run/results.json}. */
  static double studentAccuracy(Path root, String run) throws Exception {
    String json = Files.readString(root.resolve(run).resolve("results.json"));
    Matcher m = Pattern.compile("\"student\":\\{\"examples\":\\d+,\"accuracy\":([0-9.eE-]+)").matcher(json);
    assertTrue(m.find(), json);
    return Double.parseDouble(m.group(1));
  }

  @ParameterizedTest
  @ValueSource(strings = {"at", "sp", "pkt", "rkd", "dist", "fitnet", "ofd"})
  void eachFeatureLossTrainsAStudentThatLearns(String method) throws Exception {
    DemoCommandTest.Run listing = DemoCommandTest.tfkd("divergences");
    assertTrue(listing.out().contains(method.equals("vid") ? "vid(variance=5), weight 1" : "reviewkd(warmup=20, mid=512), weight 5"),
        listing.out());
    String run = "run-" + method;
    DemoCommandTest.Run r = distill(run, "ce:1, " + method);
    assertEquals(0, r.code(), r.err());
    double accuracy = studentAccuracy(run);
    assertTrue(accuracy > 0.5, method + ": student test accuracy " + accuracy + " (chance 0.25)");
    String config = Files.readString(root.resolve(run).resolve("run_config.pbtxt"));
    assertTrue(config.contains("spec: \"" + method), config);
  }

  @Test
  void adaptersAreCheckpointedButNeverExported() throws Exception {
    DemoCommandTest.Run r = distill("run-adapters", "ce:1, kl(T=4):0.9, fitnet:100, ofd");
    assertEquals(0, r.code(), r.err());
    byte[] index = Files.readAllBytes(root.resolve("run-adapters/checkpoints/epoch-0002/variables.index"));
    String checkpoint = new String(index, java.nio.charset.StandardCharsets.ISO_8859_1);
    assertTrue(checkpoint.contains("regressor"), "no fitnet adapter in the checkpoint");
    assertTrue(checkpoint.contains("connector"), "no ofd connector in the checkpoint");
    Path export = root.resolve("export-run-adapters/student/1");
    try (SavedModelBundle b = SavedModelBundle.load(export.toString(), "serve")) {
      int variables = 0;
      for (Iterator<GraphOperation> it = b.graph().operations(); it.hasNext(); ) {
        GraphOperation op = it.next();
        assertFalse(
            op.name().contains("adapter") || op.name().contains("regressor") || op.name().contains("connector"), op.name());
        variables += op.type().equals("VariableV2") ? 1 : 0;
      }
      assertTrue(variables > 0);
    }
    byte[] exported = Files.readAllBytes(export.resolve("variables/variables.index"));
    String exportedNames = new String(exported, java.nio.charset.StandardCharsets.ISO_8859_1);
    assertFalse(exportedNames.contains("regressor") || exportedNames.contains("connector"), "an adapter was exported");
  }

  /**
   * Two teachers (the shared one and a second trained here from another seed) with a feature term: each feature
   * term is computed against both and averaged (mean-loss, the default), and the student learns.
   */
  @Test
  void twoTeachersWithAFeatureTerm() throws Exception {
    DemoCommandTest.Run t =
        DemoCommandTest.tfkd(
            "train-teacher", "--train", data.resolve("train-images-idx3-ubyte.gz").toString(), "--test", data.toString(),
            "--model", "resnet8", "--epochs", "2", "--batch-size", "32", "--threads", "1", "--seed", "2", "--run-dir",
            root.resolve("teacher2-run").toString(), "--export-dir", root.resolve("export2").toString());
    assertEquals(0, t.code(), t.err());
    Path second = root.resolve("export2").resolve("teacher-mll");
    DemoCommandTest.Run r = distill("run-two", "ce:1, kl(T=4):0.9, at", "--teacher", second.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("mean-loss[2 teachers](ce:1, kl(T=4):0.9, at:1000)"), r.out());
    double accuracy = studentAccuracy("run-two");
    assertTrue(accuracy > 0.5, "two teachers: student test accuracy " + accuracy + " (chance 0.25)");
    String config = Files.readString(root.resolve("run-two").resolve("run_config.pbtxt"));
    assertEquals(2, config.split("teachers \\{", -1).length - 1, config);
    assertTrue(config.contains("spec: \"at"), config);
  }

  @Test
  void contradictionsAndBadTermsExitTwoWithOneLine() {
    DemoCommandTest.Run r = distill("run-bad", "ce:1, at", "--divergence", "kl");
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("--loss replaces --divergence"), r.err());
    r = distill("run-bad2", "ce:1, at(beta=3)");
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("at(beta=3)"), r.err());
    r = distill("run-bad3", "at:1000");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("a term on the logits"), r.err());
    assertFalse(Files.exists(root.resolve("run-bad")));
  }

  @Test
  void modelsListsFeaturePoints() {
    DemoCommandTest.Run r = DemoCommandTest.tfkd("models", "--features", "resnet32x4");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("stage3       [8, 8, 256]"), r.out());
    assertTrue(r.out().contains("pooled       [256]"), r.out());
    r = DemoCommandTest.tfkd("divergences");
    assertTrue(r.out().contains("fitnet") && r.out().contains("Loss syntax"), r.out());
    assertTrue(r.out().contains("ofd") && r.out().contains("Heo et al. 2019"), r.out());
  }

  /**
   * ReviewKD and VID from the command line with their default specs and weights: the student learns, the run's
   * checkpoint holds their adapters (fusion modules; regressors and variances), the export none of them.
   */
  @ParameterizedTest
  @ValueSource(strings = {"reviewkd", "vid"})
  void reviewKdAndVidTrainAndTheirAdaptersAreNeverExported(String method) throws Exception {
    DemoCommandTest.Run listing = DemoCommandTest.tfkd("divergences");
    assertTrue(listing.out().contains(method.equals("vid") ? "vid(variance=5), weight 1" : "reviewkd(warmup=20, mid=512), weight 5"),
        listing.out());
    String run = "run-" + method;
    DemoCommandTest.Run r = distill(run, "ce:1, " + method);
    assertEquals(0, r.code(), r.err());
    double accuracy = studentAccuracy(run);
    assertTrue(accuracy > 0.5, method + ": student test accuracy " + accuracy + " (chance 0.25)");
    String config = Files.readString(root.resolve(run).resolve("run_config.pbtxt"));
    assertTrue(config.contains("spec: \"" + method), config);
    String adapter = "adapter1_" + method + "_";
    byte[] index = Files.readAllBytes(root.resolve(run).resolve("checkpoints/epoch-0002/variables.index"));
    assertTrue(new String(index, java.nio.charset.StandardCharsets.ISO_8859_1).contains(adapter), "no adapter in the checkpoint");
    Path export = root.resolve("export-" + run).resolve("student/1");
    try (SavedModelBundle b = SavedModelBundle.load(export.toString(), "serve")) {
      for (Iterator<GraphOperation> it = b.graph().operations(); it.hasNext(); ) {
        GraphOperation op = it.next();
        assertFalse(op.name().contains("adapter") || op.name().contains(method), op.name());
      }
    }
    byte[] exported = Files.readAllBytes(export.resolve("variables/variables.index"));
    assertFalse(new String(exported, java.nio.charset.StandardCharsets.ISO_8859_1).contains("adapter"));
  }
}
