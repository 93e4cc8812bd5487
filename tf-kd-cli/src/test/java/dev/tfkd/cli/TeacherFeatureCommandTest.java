package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfkd.data.Shapes;
import dev.tfkd.data.io.TestFiles;
import dev.tfkd.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Feature points of teachers that are not rebuilt from the zoo, from the command line: a third-party SavedModel
 * (written here the way a non-tf-kd exporter writes one: its own graph, a probabilities output, no manifest) naming
 * a graph tensor with {@code --teacher-feature}, a tf-kd export carrying a {@code features} signature
 * ({@code --export-features}), and the Keras model of {@code shared/savedmodels} (skipped without it).
 */
class TeacherFeatureCommandTest {
  @TempDir static Path root;
  static Path data;
  static Path thirdParty;

  @BeforeAll
  static void writeDataAndModel() throws Exception {
    data = root.resolve("data");
    Files.createDirectories(data);
    Shapes shapes = new Shapes(8, 8, 1, 4);
    TestFiles.writeIdx(shapes.sample(240, 1, "s"), data, "train");
    TestFiles.writeIdx(shapes.sample(80, 2, "s"), data, "t10k");
    thirdParty = root.resolve("third-party/1");
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      SplittableRandom r = new SplittableRandom(4);
      Placeholder<TFloat32> x = tf.withName("serving_inputs").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8, 8, 1)));
      Operand<TFloat32> flat = tf.reshape(x, tf.constant(new int[] {-1, 64}));
      Operand<TFloat32> w1 = tf.withName("hidden_kernel").variable(tf.constant(random(r, 64, 16)));
      Operand<TFloat32> hidden = tf.withName("hidden").nn.relu(tf.linalg.matMul(flat, tf.identity(w1)));
      Operand<TFloat32> w2 = tf.withName("out_kernel").variable(tf.constant(random(r, 16, 4)));
      Operand<TFloat32> probs = tf.withName("probs").nn.softmax(tf.linalg.matMul(hidden, tf.identity(w2)));
      // Tensors a feature point must not be: an integer one, and one whose size per example is not known.
      tf.withName("hidden_int").dtypes.cast(hidden, TInt32.class);
      tf.withName("hidden_dynamic").placeholderWithDefault(hidden, Shape.of(-1, -1));
      try (Session s = new Session(g)) {
        SavedModelBundle.exporter(thirdParty.toString())
            .withTags("serve")
            .withFunction(
                SessionFunction.create(
                    Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
                        .input("inputs", x).output("probs", probs).build(),
                    s))
            .export();
      }
    }
  }

  private static float[][] random(SplittableRandom r, int rows, int cols) {
    float[][] w = new float[rows][cols];
    for (float[] row : w) {
      for (int j = 0; j < cols; j++) {
        row[j] = (float) (r.nextGaussian() * 0.3);
      }
    }
    return w;
  }

  static DemoCommandTest.Run distill(String run, Path teacher, String... more) {
    return distillWithLoss(run, teacher, "ce:1, pkt", more);
  }

  static DemoCommandTest.Run distillWithLoss(String run, Path teacher, String loss, String... more) {
    String[] base = {
      "distill", "--teacher", teacher.toString(), "--train", data.resolve("train-images-idx3-ubyte.gz").toString(),
      "--test", data.toString(), "--model", "mlp:16", "--epochs", "1", "--batch-size", "32", "--threads", "1",
      "--loss", loss, "--run-dir", root.resolve(run).toString(), "--export-dir", root.resolve("export-" + run).toString()
    };
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return DemoCommandTest.tfkd(all);
  }

  @Test
  void aThirdPartyTeacherNamesItsPooledTensor() throws Exception {
    DemoCommandTest.Run r = distill("named", thirdParty, "--teacher-feature", "pooled=hidden:0");
    assertEquals(0, r.code(), r.err());
    String config = Files.readString(root.resolve("named/run_config.pbtxt"));
    assertTrue(config.contains("teacher_feature: \"pooled=hidden:0\""), config);
    String results = Files.readString(root.resolve("named/results.json"));
    assertTrue(results.contains("\"student\""), results);
    // The pkt term was trained: its soft loss is reported and not zero.
    assertTrue(r.out().contains("pkt:30000"), r.out());
  }

  @ParameterizedTest
  @CsvSource({
    "pooled=nope:0, no such tensor",
    "pooled=hidden_int:0, DT_INT32",
    "pooled=hidden_dynamic:0, '[-1, -1]'",
    "stage3=hidden:0, pkt reads the teacher's feature point pooled"
  })
  void aTensorThatCannotServeIsRefusedWithOneLine(String feature, String why) {
    String run = "bad-" + Integer.toHexString(feature.hashCode());
    DemoCommandTest.Run r = distill(run, thirdParty, "--teacher-feature", feature);
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains(why), r.err());
    assertTrue(r.err().contains(thirdParty.toString()), r.err());
    assertFalse(Files.exists(root.resolve(run)), "no run directory for bad input");
  }

  @Test
  void namedPointsWithoutAFeatureTermAreRefused() {
    DemoCommandTest.Run r =
        distillWithLoss("no-feature-term", thirdParty, "ce:1, kl(T=4):0.9", "--teacher-feature", "pooled=hidden:0");
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("--teacher-feature") && r.err().contains("reads none"), r.err());
  }

  @Test
  void anExportWithItsFeaturesSignatureTeachesWithoutAZooRebuild() throws Exception {
    DemoCommandTest.Run t =
        DemoCommandTest.tfkd(
            "train-teacher", "--train", data.resolve("train-images-idx3-ubyte.gz").toString(), "--test", data.toString(),
            "--model", "mlp:32", "--epochs", "1", "--batch-size", "32", "--threads", "1", "--export-features",
            "--run-dir", root.resolve("teacher-run").toString(), "--export-dir", root.resolve("teachers").toString());
    assertEquals(0, t.code(), t.err());
    Path teacher = root.resolve("teachers/teacher-mll");
    DemoCommandTest.Run i = DemoCommandTest.tfkd("inspect", "--check", teacher.toString());
    assertEquals(0, i.code(), i.err() + i.out());
    DemoCommandTest.Run shown = DemoCommandTest.tfkd("inspect", teacher.toString());
    assertTrue(shown.out().contains("signature features (tensorflow/serving/predict)"), shown.out());
    assertTrue(shown.out().contains("output pooled:"), shown.out());
    DemoCommandTest.Run r = distill("from-signature", teacher);
    assertEquals(0, r.code(), r.err());
    // The teacher is the SavedModel in its own session (whose output reading is announced), not the zoo
    // architecture rebuilt from its variables (which gives logits by construction and announces none).
    assertTrue(r.out().contains("teacher output 'logits' read as logits"), r.out());
    // The student's own export keeps the default signatures.
    DemoCommandTest.Run s = DemoCommandTest.tfkd("inspect", root.resolve("export-from-signature/student").toString());
    assertFalse(s.out().contains("signature features"), s.out());
  }

  @Test
  void theKerasModelServesItsOutputAsAFeaturePoint() throws Exception {
    Path keras = SharedData.find("savedmodels/keras-mnist-dense/mnist_model").orElse(null);
    Path mnist = SharedData.find("datasets/mnist-10k/t10k-images-idx3-ubyte.gz").orElse(null);
    assumeTrue(keras != null && mnist != null, "needs ../shared/savedmodels and ../shared/datasets/mnist-10k");
    DemoCommandTest.Run r =
        DemoCommandTest.tfkd(
            "distill", "--teacher", keras.toString(), "--teacher-feature", "pooled=StatefulPartitionedCall:0",
            "--train", mnist.toString(), "--validation-split", "0.2", "--model", "mlp:16", "--epochs", "1",
            "--batch-size", "64", "--threads", "1", "--loss", "ce:1, pkt", "--run-dir", root.resolve("keras").toString(),
            "--export-dir", root.resolve("export-keras").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("read as probabilities"), r.out());
  }
}
