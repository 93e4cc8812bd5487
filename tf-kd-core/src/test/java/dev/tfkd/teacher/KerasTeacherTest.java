package dev.tfkd.teacher;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.export.OutputKind;
import dev.tfkd.export.Predictor;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.testing.SharedData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** A real Keras SavedModel (softmax output named {@code dense_1}) read as a teacher, and the kind checks. */
class KerasTeacherTest {
  @TempDir Path work;

  /** {@code shared/<name>}, or null where the shared folder is absent. */
  private static Path shared(String name) {
    return SharedData.find(name).orElse(null);
  }

  @Test
  void kerasSoftmaxOutputIsReadAsProbabilitiesAndScoresLikeKeras() {
    Path model = shared("savedmodels/keras-mnist-dense/mnist_model");
    Path mnist = shared("datasets/mnist-10k");
    assumeTrue(model != null && mnist != null, "needs ../shared/savedmodels and ../shared/datasets/mnist-10k");
    Dataset test = DataSources.load(mnist.toString(), null, DataSources.Split.TEST);
    try (SavedModelTeacher t = SavedModelTeacher.load(model)) {
      Evaluation ev = Metrics.evaluate(t.logits(test), test);
      assertTrue(t.outputsProbabilities());
      String reading = t.outputReading();
      assertTrue(reading.contains("probabilities") && reading.contains("Softmax") && reading.contains("confirmed"), reading);
      // Keras itself reports NLL 0.0852 and accuracy 0.977 for this model on these 10,000 images.
      assertAllClose(ev.nll(), 0.0852, 0, 0.002, "teacher NLL");
      assertAllClose(ev.accuracy(), 0.977, 0, 0.001, "teacher accuracy");
    }
    // Read as logits (the old behaviour), the same probabilities are softmaxed again into near-uniform targets.
    var asLogits = new SavedModelTeacher.TeacherOptions("serving_default", null, OutputKind.LOGITS, false);
    try (SavedModelTeacher t = SavedModelTeacher.load(model, asLogits)) {
      assertTrue(Metrics.evaluate(t.logits(test), test).nll() > 1.0);
    }
  }

  @Test
  void inputsOfTheSameSizeAreAdaptedOthersRefusedAndPreprocessingApplies() {
    Path model = shared("savedmodels/keras-mnist-dense/mnist_model");
    Path mnist = shared("datasets/mnist-10k");
    assumeTrue(model != null && mnist != null, "needs ../shared/savedmodels and ../shared/datasets/mnist-10k");
    Dataset images = DataSources.load(mnist.toString(), null, DataSources.Split.TEST).select(
        java.util.stream.IntStream.range(0, 500).toArray(), "mnist-500");
    assertEquals(java.util.List.of(28L, 28L, 1L), java.util.Arrays.stream(images.exampleShape()).boxed().toList());
    Dataset flat = new Dataset("flat", images.features(), images.labels(), new long[] {784}, 10, null);
    float[] scaled = images.features().clone();
    for (int i = 0; i < scaled.length; i++) {
      scaled[i] *= 255f;
    }
    Dataset raw = new Dataset("raw", scaled, images.labels(), new long[] {28, 28, 1}, 10, null);
    Dataset small = new Dataset("small", new float[5 * 27 * 27], new int[5], new long[] {27, 27, 1}, 10, null);
    float[] expected;
    try (SavedModelTeacher t = SavedModelTeacher.load(model)) {
      assertEquals(java.util.List.of(28L, 28L), java.util.Arrays.stream(t.inputShape()).boxed().toList());
      expected = t.logits(images);
      assertAllClose(t.logits(flat), expected, dev.tfkd.testing.Assertions.EXACT);
      var e = assertThrows(IllegalArgumentException.class, () -> t.logits(small));
      assertTrue(e.getMessage().contains("[28, 28]") && e.getMessage().contains("[27, 27, 1]"), e.getMessage());
    }
    // Data in 0..255 fed to a teacher trained on [0, 1] pixels: scale=0.00392156 (1/255) brings it back.
    var options =
        new SavedModelTeacher.TeacherOptions(
            "serving_default", null, null, OutputKind.AUTO, false, InputPreprocess.parse("scale=0.003921569"));
    try (SavedModelTeacher t = SavedModelTeacher.load(model, options)) {
      assertAllClose(t.logits(raw), expected, dev.tfkd.testing.Assertions.FLOAT32_LOOSE);
      assertTrue(t.outputReading().contains("scale=0.003921569"), t.outputReading());
    }
  }

  @Test
  void preprocessSpecsParseAndBadOnesAreRefused() {
    InputPreprocess p = InputPreprocess.parse("mean=0.5, std=0.25,scale=2");
    assertEquals(new InputPreprocess(2f, 0.5f, 0.25f), p);
    assertAllClose(p.apply(new float[] {0.5f, 1f}), new float[] {2f, 6f}, dev.tfkd.testing.Assertions.FLOAT32_TIGHT);
    assertEquals(p, InputPreprocess.parse(p.describe()));
    assertTrue(InputPreprocess.parse("").isNone());
    for (String bad : new String[] {"scale", "scale=x", "gamma=1", "std=0", "scale=0", "mean=NaN", "scale=2,scale=3"}) {
      assertThrows(IllegalArgumentException.class, () -> InputPreprocess.parse(bad), bad);
    }
  }

  /** A SavedModel whose output {@code out} is its input passed through an Identity (an op the graph calls logits). */
  private Path identityModel() {
    Path dir = work.resolve("identity");
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      var y = tf.withName("out").identity(x);
      try (Session s = new Session(g)) {
        Signature sig =
            Signature.builder().input("x", x).output("out", y).methodName("tensorflow/serving/predict").build();
        SavedModelBundle.exporter(dir.toString()).withTags("serve").withFunction(SessionFunction.create(sig, s)).export();
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return dir;
  }

  @Test
  void graphAndValuesThatDisagreeStopWithBothNamedAndAnExplicitKindSettlesIt() {
    Path dir = identityModel();
    float[] rows = {0.2f, 0.3f, 0.5f, 0.1f, 0.1f, 0.8f};
    try (Predictor p = Predictor.load(dir)) {
      assertEquals(OutputKind.LOGITS, p.outputKind());
      var e = assertThrows(IllegalArgumentException.class, () -> p.logits(rows, 2));
      assertTrue(e.getMessage().contains("logits by the graph") && e.getMessage().contains("look like probabilities")
          && e.getMessage().contains("--teacher-output-kind"), e.getMessage());
      assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
    try (Predictor p = Predictor.load(dir, Predictor.Options.DEFAULT.withOutput(null, OutputKind.PROBABILITIES))) {
      float[] logits = p.logits(rows, 2);
      assertAllClose(logits[2], Math.log(0.5), 0, 1e-6);
      assertTrue(p.outputDecision().contains("set explicitly"), p.outputDecision());
    }
    // Log-probabilities pass unchanged; values that look like logits agree with the graph.
    float[] logProbs = {(float) Math.log(0.2), (float) Math.log(0.3), (float) Math.log(0.5)};
    try (Predictor p = Predictor.load(dir, Predictor.Options.DEFAULT.withOutput(null, OutputKind.LOG_PROBABILITIES))) {
      assertAllClose(p.logits(logProbs, 1), logProbs, dev.tfkd.testing.Assertions.EXACT);
    }
    try (Predictor p = Predictor.load(dir)) {
      float[] logits = {2f, -1f, 0.5f};
      assertAllClose(p.logits(logits, 1), logits, dev.tfkd.testing.Assertions.EXACT);
      assertTrue(p.outputDecision().contains("confirmed by the values"), p.outputDecision());
    }
  }
}
