package dev.tfkd.export;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.teacher.SavedModelTeacher;
import dev.tfkd.testing.Assertions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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

/**
 * A binary classifier's single sigmoid output ({@code [batch]} or {@code [batch, 1]}): found in the graph, confirmed by
 * values in [0, 1], read as two classes with log-probabilities {@code [log(1 - p), log(p)]}.
 */
class BinaryOutputTest {
  @TempDir Path work;

  /** Weights of the models' single unit: p = sigmoid(x . W). */
  private static final float[] W = {1f, -2f, 0.5f};

  /** A SavedModel taking {@code x} [-1, 3] whose output {@code prob} is {@code head(tf, x . W)} ([-1, 1]). */
  private Path model(String name, BiFunction<Ops, Operand<TFloat32>, Operand<TFloat32>> head) {
    Path dir = work.resolve(name);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      Operand<TFloat32> z = tf.linalg.matMul(x, tf.constant(new float[][] {{W[0]}, {W[1]}, {W[2]}}));
      Operand<TFloat32> y = tf.withName("prob").identity(head.apply(tf, z));
      try (Session s = new Session(g)) {
        Signature sig =
            Signature.builder().input("x", x).output("prob", y).methodName("tensorflow/serving/predict").build();
        SavedModelBundle.exporter(dir.toString()).withTags("serve").withFunction(SessionFunction.create(sig, s)).export();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  private static final float[] ROWS = {1f, 0f, 0f, 0f, 1f, 0f, 2f, 1f, 4f, 0f, 0f, 0f};

  /** [log(1 - p), log(p)] per row of {@link #ROWS}, in double. */
  private static float[] expectedLogits() {
    float[] out = new float[ROWS.length / 3 * 2];
    for (int i = 0; i < ROWS.length / 3; i++) {
      double z = ROWS[3 * i] * W[0] + ROWS[3 * i + 1] * W[1] + ROWS[3 * i + 2] * W[2];
      double p = 1 / (1 + Math.exp(-z));
      out[2 * i] = (float) Math.log(1 - p);
      out[2 * i + 1] = (float) Math.log(p);
    }
    return out;
  }

  @Test
  void aSigmoidColumnIsABinaryProbabilityReadAsTwoClasses() {
    Path column = model("column", (tf, z) -> tf.math.sigmoid(z));
    // Squeezed to [batch] after the sigmoid: the graph is still followed to it.
    Path flat = model("flat", (tf, z) -> tf.reshape(tf.math.sigmoid(z), tf.constant(new int[] {-1})));
    for (Path dir : new Path[] {column, flat}) {
      try (Predictor p = Predictor.load(dir)) {
        assertEquals(OutputKind.BINARY_PROBABILITY, p.outputKind(), dir.toString());
        assertEquals(2, p.numClasses());
        assertTrue(p.outputsProbabilities());
        assertAllClose(p.logits(ROWS, 4), expectedLogits(), Assertions.FLOAT32_LOOSE);
        String decision = p.outputDecision();
        assertTrue(decision.contains("binary probability") && decision.contains("Sigmoid")
            && decision.contains("confirmed by the values"), decision);
        // Probabilities of the two classes sum to 1, class 1 is sigmoid(z).
        Predictor.Prediction pr = p.predict(new float[][] {{2f, 1f, 4f}});
        assertAllClose(pr.probabilities()[0][1], 1 / (1 + Math.exp(-2)), 0, 1e-6);
        assertAllClose(pr.probabilities()[0][0] + pr.probabilities()[0][1], 1.0, 0, 1e-6);
        assertEquals(1, pr.classes()[0]);
      }
    }
  }

  @Test
  void aSaturatedSigmoidIsFlooredNotInfinite() {
    Path dir = model("column", (tf, z) -> tf.math.sigmoid(z));
    try (Predictor p = Predictor.load(dir)) {
      // z = 200: p rounds to exactly 1 in float32, so 1 - p is 0 and its logarithm the floor's.
      float[] logits = p.logits(new float[] {200f, 0f, 0f}, 1);
      assertAllClose(logits[0], Math.log(SavedModelClassifier.PROBABILITY_FLOOR), 1e-6, 0);
      assertEquals(0f, logits[1]);
    }
  }

  @Test
  void aTeacherWithASigmoidOutputTeachesTwoClasses() {
    Path dir = model("column", (tf, z) -> tf.math.sigmoid(z));
    Dataset data = new Dataset("rows", ROWS, new int[] {1, 0, 1, 0}, new long[] {3}, 2, null);
    try (SavedModelTeacher t = SavedModelTeacher.load(dir)) {
      assertEquals(2, t.numClasses());
      assertAllClose(t.logits(data), expectedLogits(), Assertions.FLOAT32_LOOSE);
      assertTrue(t.outputReading().contains("binary probability"), t.outputReading());
    }
  }

  @Test
  void valuesOutsideTheUnitIntervalDisagreeWithTheGraph() {
    Path dir = model("column", (tf, z) -> tf.math.sigmoid(z));
    // The NaN input must reach the graph: the Predictor refuses non-finite inputs unless told to let them through.
    try (Predictor p = Predictor.load(dir, Predictor.Options.DEFAULT.withAllowNonFinite(true))) {
      // sigmoid(NaN) is NaN: no probability.
      var e = assertThrows(IllegalArgumentException.class, () -> p.logits(new float[] {Float.NaN, 0f, 0f}, 1));
      assertTrue(e.getMessage().contains("binary probability") && e.getMessage().contains("outside [0, 1]")
          && e.getMessage().contains("BINARY_PROBABILITY"), e.getMessage());
      assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
    assertEquals(OutputEvidence.Values.PROBABILITIES, OutputEvidence.fromBinaryValues(new float[] {0f, 0.5f, 1f}));
    assertEquals(OutputEvidence.Values.LOGITS, OutputEvidence.fromBinaryValues(new float[] {0.5f, 1.5f}));
    assertEquals(OutputEvidence.Values.LOGITS, OutputEvidence.fromBinaryValues(new float[] {-0.1f}));
    assertEquals(OutputEvidence.Values.LOGITS, OutputEvidence.fromBinaryValues(new float[0]));
  }

  @Test
  void oneValueWithoutASigmoidIsRefusedAndSoIsABinaryKindOnSeveralColumns() {
    // A single score that is not a sigmoid's: no classifier output tf-kd can read, named with its shape.
    Path score = model("score", (tf, z) -> tf.reshape(z, tf.constant(new int[] {-1})));
    var e = assertThrows(IllegalArgumentException.class, () -> Predictor.load(score));
    assertTrue(e.getMessage().contains("[-1]") && e.getMessage().contains("BINARY_PROBABILITY"), e.getMessage());
    // Told it is a binary probability, the same output is read as one (the user settles what the graph cannot).
    try (Predictor p = Predictor.load(score, Predictor.Options.DEFAULT.withOutput(null, OutputKind.BINARY_PROBABILITY))) {
      assertEquals(2, p.numClasses());
      assertTrue(p.outputDecision().contains("set explicitly"), p.outputDecision());
    }
    Path three = model("three", (tf, z) -> tf.concat(java.util.List.of(z, z, z), tf.constant(1)));
    e = assertThrows(
        IllegalArgumentException.class,
        () -> Predictor.load(three, Predictor.Options.DEFAULT.withOutput(null, OutputKind.BINARY_PROBABILITY)));
    assertTrue(e.getMessage().contains("[-1, 3]") && e.getMessage().contains("one value per example"), e.getMessage());
    // A sigmoid over several columns (multi-label) is no binary probability: the values decide, as before.
    Path multi = model("multi", (tf, z) -> tf.math.sigmoid(tf.concat(java.util.List.of(z, z), tf.constant(1))));
    try (Predictor p = Predictor.load(multi)) {
      assertEquals(OutputKind.AUTO, p.outputKind());
      assertEquals(2, p.numClasses());
    }
  }
}
