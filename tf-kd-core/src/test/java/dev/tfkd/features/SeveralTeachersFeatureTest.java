package dev.tfkd.features;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.graph.BatchNormParameters;
import dev.tfkd.graph.Init;
import dev.tfkd.graph.Tensors;
import dev.tfkd.graph.Variables;
import dev.tfkd.losses.LossContext;
import dev.tfkd.training.FeatureInputs;
import dev.tfkd.training.Objective;
import dev.tfkd.training.TeacherCombination;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A loss spec with several teachers against the same spec with one: every combination mode given one teacher
 * twice equals that teacher alone, fixed weights (1, 0) equal the first teacher alone, a random draw of teacher 2
 * equals teacher 2 alone, and the mean of two different teachers' soft losses is the mean of each alone. Feature
 * terms with and without adapters (AT, FitNet, OFD) and a divergence term; adapters get the same weights whichever
 * teacher they serve, so the values are comparable.
 */
class SeveralTeachersFeatureTest {
  private static final int B = 4;
  private static final int K = 3;
  private static final LossSpec LOSS = LossSpec.parse("ce:1, kl(T=4):0.9, at, fitnet(stage=1), ofd");

  /** One teacher's fed values: its points, its logits and its batch-norm parameters. */
  private record Teacher(Map<String, double[]> points, double[] logits, double[][] norm) {}

  private static double[] random(SplittableRandom rng, int n) {
    return FeatureHarness.random(rng, n, 1.5);
  }

  private static Teacher teacher(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    Map<String, double[]> p = new LinkedHashMap<>();
    p.put("stage1", random(rng, B * 16 * 5));
    p.put("stage1_pre", random(rng, B * 16 * 5));
    double[] gamma = random(rng, 5);
    double[] beta = random(rng, 5);
    return new Teacher(p, random(rng, B * K), new double[][] {gamma, beta});
  }

  private static final Map<String, double[]> STUDENT = new LinkedHashMap<>();
  private static final int[] LABELS = {0, 2, 1, 2};

  static {
    SplittableRandom rng = new SplittableRandom(3);
    STUDENT.put("stage1", random(rng, B * 16 * 3));
    STUDENT.put("stage1_pre", random(rng, B * 16 * 3));
    STUDENT.put("logits", random(rng, B * K));
  }

  /** {total, soft} of {@code objective} with {@code teachers} (side by side), the random draw fed {@code choice}. */
  private static double[] run(Objective objective, List<Teacher> teachers, int choice) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      List<TFloat32> feeds = new ArrayList<>();
      Map<Placeholder<TFloat32>, double[]> fed = new LinkedHashMap<>();
      Map<String, Operand<TFloat32>> student = new LinkedHashMap<>();
      STUDENT.forEach((n, v) -> student.put(n, placeholder(tf, fed, n.equals("logits") ? Shape.of(B, K) : Shape.of(B, 4, 4, 3), v)));
      List<FeatureInputs.TeacherPoints> points = new ArrayList<>();
      double[] logits = new double[B * K * teachers.size()];
      for (int m = 0; m < teachers.size(); m++) {
        Teacher t = teachers.get(m);
        Map<String, Operand<TFloat32>> p = new LinkedHashMap<>();
        t.points().forEach((n, v) -> p.put(n, placeholder(tf, fed, Shape.of(B, 4, 4, 5), v)));
        BatchNormParameters bn =
            new BatchNormParameters(FeatureHarness.constant(tf, t.norm()[0]), FeatureHarness.constant(tf, t.norm()[1]));
        points.add(new FeatureInputs.TeacherPoints(p, Map.of("stage1_pre", bn)));
        for (int i = 0; i < B; i++) {
          System.arraycopy(t.logits(), i * K, logits, (i * teachers.size() + m) * K, K);
        }
      }
      Operand<TFloat32> teacherLogits = placeholder(tf, fed, Shape.of(B, (long) K * teachers.size()), logits);
      Operand<TInt32> labels = tf.constant(LABELS);
      LossContext context =
          new LossContext(labels, tf.oneHot(labels, tf.constant(K), tf.constant(1f), tf.constant(0f)), tf.constant(0f));
      Objective.LossTerms terms =
          objective.build(tf, student.get("logits"), teacherLogits, context, new FeatureInputs(student, points, new SameWeights()));
      try (Session s = new Session(g)) {
        Session.Runner r = s.runner();
        fed.forEach((ph, v) -> {
          float[] f = new float[v.length];
          for (int i = 0; i < f.length; i++) {
            f[i] = (float) v[i];
          }
          TFloat32 x = Tensors.floats(ph.shape(), f, 0, f.length);
          feeds.add(x);
          r.feed(ph, x);
        });
        TInt32 drawn = null;
        if (g.operation("teacher_choice") != null) {
          drawn = Tensors.ints(Shape.scalar(), new int[] {choice}, 0, 1);
          r.feed("teacher_choice", drawn);
        }
        try (Result res = r.fetch(terms.total()).fetch(terms.soft()).run()) {
          return new double[] {((TFloat32) res.get(0)).getFloat(), ((TFloat32) res.get(1)).getFloat()};
        } finally {
          feeds.forEach(TFloat32::close);
          if (drawn != null) {
            drawn.close();
          }
        }
      }
    }
  }

  private static Placeholder<TFloat32> placeholder(Ops tf, Map<Placeholder<TFloat32>, double[]> fed, Shape shape, double[] v) {
    Placeholder<TFloat32> p = tf.placeholder(TFloat32.class, Placeholder.shape(shape));
    fed.put(p, v);
    return p;
  }

  /** Adapter weights from the variable's name without its teacher suffix, so teacher m's adapters equal teacher 1's. */
  private static final class SameWeights implements Variables {
    @Override
    public Operand<TFloat32> weight(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut) {
      SplittableRandom rng = new SplittableRandom(name.replaceAll("_t[0-9]+_", "_").hashCode());
      float[] f = new float[(int) shape.size()];
      for (int i = 0; i < f.length; i++) {
        f[i] = (float) (init == Init.ONES ? 1 + 0.2 * (rng.nextDouble() - 0.5) : 0.4 * (rng.nextDouble() - 0.5));
      }
      return tf.constant(shape, DataBuffers.of(f, true, false));
    }

    @Override
    public Variable<TFloat32> state(Ops tf, String name, Shape shape, Init init) {
      throw new UnsupportedOperationException("adapters keep no state");
    }
  }

  private static void assertSame(double[] expected, double[] actual, String what) {
    assertAllClose(actual[0], expected[0], 2e-6, 1e-7, what + ": total");
    assertAllClose(actual[1], expected[1], 2e-6, 1e-7, what + ": soft");
  }

  @Test
  void severalTeachersReduceToOneAsTheCombinationSays() {
    Teacher a = teacher(1);
    Teacher b = teacher(2);
    double[] alone = run(LOSS, List.of(a), 0);
    double[] aloneB = run(LOSS, List.of(b), 0);
    assertTrue(alone[1] > 0 && aloneB[1] > 0);
    assertNotEquals(alone[1], aloneB[1], 1e-3, "the two teachers differ");
    for (TeacherCombination c : List.of(
        TeacherCombination.meanOfLosses(), TeacherCombination.meanOfProbabilities(), TeacherCombination.confidence(),
        TeacherCombination.weighted(0.3f, 0.7f), TeacherCombination.randomPerBatch())) {
      assertSame(alone, run(LOSS.withTeachers(c, 2, 7), List.of(a, a), 1), c + ": one teacher given twice");
    }
    assertSame(alone, run(LOSS.withTeachers(TeacherCombination.weighted(1, 0), 2, 7), List.of(a, b), 0), "weights (1, 0)");
    assertSame(aloneB, run(LOSS.withTeachers(TeacherCombination.randomPerBatch(), 2, 7), List.of(a, b), 1), "drawn teacher 2");
    double[] mean = run(LOSS.withTeachers(TeacherCombination.meanOfLosses(), 2, 7), List.of(a, b), 0);
    assertAllClose(mean[1], (alone[1] + aloneB[1]) / 2, 2e-6, 1e-7, "mean-loss of two teachers");
    // With one teacher the objective is the loss itself.
    assertSame(alone, run(LOSS.withTeachers(TeacherCombination.confidence(), 1, 7), List.of(a), 0), "one teacher");
  }

  @Test
  void confidenceWeightsFeatureTermsByTheBatchMeanOfEachTeachersWeights() {
    Teacher a = teacher(1);
    Teacher b = teacher(2);
    // Teacher 2 is sure of every label, so it weighs more.
    for (int i = 0; i < B; i++) {
      b.logits()[i * K + LABELS[i]] += 3;
    }
    LossSpec at = LossSpec.parse("ce:1, at");
    double atA = run(at, List.of(a), 0)[1];
    double atB = run(at, List.of(b), 0)[1];
    // CA-MKD's per-example weights: (1 - softmax_m(CE_m)) / (M - 1), here M = 2.
    double wa = 0;
    for (int i = 0; i < B; i++) {
      double ca = crossEntropy(a.logits(), i);
      double cb = crossEntropy(b.logits(), i);
      wa += (1 - Math.exp(ca) / (Math.exp(ca) + Math.exp(cb))) / B;
    }
    double combined = run(at.withTeachers(TeacherCombination.confidence(), 2, 7), List.of(a, b), 0)[1];
    assertAllClose(combined, wa * atA + (1 - wa) * atB, 2e-6, 1e-7, "ca-mkd feature term");
    assertTrue(wa < 0.45, "the label-sure teacher 2 weighs more: teacher 1 has " + wa);
  }

  private static double crossEntropy(double[] logits, int i) {
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < K; k++) {
      max = Math.max(max, (float) logits[i * K + k]);
    }
    double sum = 0;
    for (int k = 0; k < K; k++) {
      sum += Math.exp((float) logits[i * K + k] - max);
    }
    return -((float) logits[i * K + LABELS[i]] - max - Math.log(sum));
  }

  @Test
  void describesTheCombinationAndChecksIt() {
    MultiTeacherLoss l = LOSS.withTeachers(TeacherCombination.meanOfLosses(), 2, 7);
    assertEquals("mean-loss[2 teachers](" + LOSS.describe() + ")", l.describe());
    assertEquals(2, l.teachers());
    assertTrue(l.needsFeatures() && l.needsTeacher());
    assertThrows(IllegalArgumentException.class, () -> LOSS.withTeachers(TeacherCombination.weighted(1, 1, 1), 2, 7));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LossSpec.parse("ce:1, cswt:kl").withTeachers(TeacherCombination.meanOfProbabilities(), 2, 7));
    assertTrue(e.getMessage().contains("mean-probs"), e.getMessage());
  }
}
