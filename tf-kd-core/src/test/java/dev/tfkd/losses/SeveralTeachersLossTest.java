package dev.tfkd.losses;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tfkd.graph.Tensors;
import dev.tfkd.training.MultiTeacherDistillation;
import dev.tfkd.training.Objective;
import dev.tfkd.training.TeacherCombination;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Every way of combining several teachers ({@link TeacherCombination}) against a float64 reference written from the
 * formulas: the per-teacher divergences come from the divergences' own float64 {@link Reference}, the combination
 * (means, weights, CA-MKD's confidence weights, the drawn teacher, the mixture of probabilities) is computed here.
 */
class SeveralTeachersLossTest {
  private static final int B = 6;
  private static final int K = 5;
  private static final int M = 3;
  private static final float CE = 0.3f;
  private static final float KD = 0.7f;
  private static final double EPOCH = 2;

  static Stream<Arguments> cases() {
    Stream.Builder<Arguments> s = Stream.builder();
    for (String div : new String[] {"kl(T=4)", "kl(T=1)", "dkd(warmup=0)", "js(T=2)", "cswt:kl", "mse-logits"}) {
      for (TeacherCombination c :
          new TeacherCombination[] {
            TeacherCombination.meanOfProbabilities(), TeacherCombination.meanOfLosses(),
            TeacherCombination.weighted(2f, 1f, 1f), TeacherCombination.confidence(), TeacherCombination.randomPerBatch()
          }) {
        if (c.mode() == TeacherCombination.Mode.MEAN_PROBS && !(Divergences.parse(div) instanceof Tempered)) {
          continue;
        }
        s.add(Arguments.of(div, c));
      }
    }
    return s.build();
  }

  /** Student logits [B][K], teachers [M][B][K] of different sharpness, labels, all float32-rounded. */
  private record Batch(double[][] s, double[][][] t, int[] y) {}

  private static Batch batch() {
    SplittableRandom r = new SplittableRandom(17);
    double[][] s = new double[B][K];
    double[][][] t = new double[M][B][K];
    int[] y = new int[B];
    for (int i = 0; i < B; i++) {
      y[i] = r.nextInt(K);
      for (int c = 0; c < K; c++) {
        s[i][c] = (float) (2 * r.nextDouble() - 1);
        for (int m = 0; m < M; m++) {
          // Teacher m is (m + 1) times as sure of the label, with its own noise: their CA-MKD weights differ.
          t[m][i][c] = (float) ((c == y[i] ? 1.5 * (m + 1) : 0) + 2 * (2 * r.nextDouble() - 1));
        }
      }
    }
    return new Batch(s, t, y);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void valueMatchesFloat64Reference(String spec, TeacherCombination combination) {
    Divergence d = Divergences.parse(spec);
    Batch b = batch();
    for (int choice = 0; choice < (combination.mode() == TeacherCombination.Mode.RANDOM ? M : 1); choice++) {
      double[] expected = reference(d, combination, b, choice);
      double[] actual = graph(new MultiTeacherDistillation(CE, KD, d, combination, M, 1), b, choice);
      assertAllClose(actual, expected, 1e-5, 1e-6);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.tfkd.losses.SeveralTeachersLossTest#modes")
  void oneTeacherIsThePlainDistillation(TeacherCombination.Mode mode) {
    Divergence d = Divergences.parse("kl(T=4)");
    Batch b = batch();
    Batch one = new Batch(b.s(), new double[][][] {b.t()[1]}, b.y());
    float[] w = mode == TeacherCombination.Mode.WEIGHTED ? new float[] {3f} : null;
    double[] multi = graph(new MultiTeacherDistillation(CE, KD, d, new TeacherCombination(mode, w), 1, 1), one, 0);
    double[] plain = graph(new dev.tfkd.training.Distillation(CE, KD, d), one, 0);
    assertAllClose(multi, plain, 1e-6, 1e-7);
  }

  static Stream<TeacherCombination.Mode> modes() {
    return Stream.of(TeacherCombination.Mode.values());
  }

  @org.junit.jupiter.api.Test
  void badCombinationsAreRefused() {
    Divergence kl = Divergences.parse("kl");
    assertThrows(
        IllegalArgumentException.class,
        () -> new MultiTeacherDistillation(CE, KD, kl, TeacherCombination.weighted(1f, 2f), 3, 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> new MultiTeacherDistillation(CE, KD, Divergences.parse("cswt:kl"), TeacherCombination.meanOfProbabilities(), 2, 1));
    assertThrows(IllegalArgumentException.class, () -> TeacherCombination.weighted(0f, 0f));
    assertThrows(IllegalArgumentException.class, () -> TeacherCombination.weighted(1f, -1f));
    assertThrows(IllegalArgumentException.class, () -> TeacherCombination.of("majority", null));
    assertThrows(IllegalArgumentException.class, () -> new MultiTeacherDistillation(CE, KD, kl, TeacherCombination.meanOfLosses(), 0, 1));
  }

  /** {total, hard, soft} in float64. */
  private static double[] reference(Divergence d, TeacherCombination c, Batch b, int choice) {
    double hard = 0;
    for (int i = 0; i < B; i++) {
      hard -= Reference.logSoftmax(b.s()[i], 1)[b.y()[i]];
    }
    hard /= B;
    double[][] perTeacher = new double[M][];
    if (c.mode() != TeacherCombination.Mode.MEAN_PROBS) {
      for (int m = 0; m < M; m++) {
        perTeacher[m] = Reference.perExample(d, b.s(), b.t()[m], b.y(), EPOCH);
      }
    }
    double soft = 0;
    switch (c.mode()) {
      case MEAN_PROBS -> {
        double t = ((Tempered) d).temperature();
        double[][] mixture = new double[B][K];
        for (int i = 0; i < B; i++) {
          double[] pbar = new double[K];
          for (int m = 0; m < M; m++) {
            double[] p = Reference.softmax(b.t()[m][i], t);
            for (int k = 0; k < K; k++) {
              pbar[k] += p[k] / M;
            }
          }
          for (int k = 0; k < K; k++) {
            mixture[i][k] = t * Math.log(pbar[k]);
          }
        }
        for (double v : Reference.perExample(d, b.s(), mixture, b.y(), EPOCH)) {
          soft += v / B;
        }
      }
      case MEAN_LOSS, WEIGHTED -> {
        float[] w = c.weights();
        for (int m = 0; m < M; m++) {
          double wm = c.mode() == TeacherCombination.Mode.WEIGHTED ? w[m] : 1.0 / M;
          for (int i = 0; i < B; i++) {
            soft += wm * perTeacher[m][i] / B;
          }
        }
      }
      case CONFIDENCE -> {
        for (int i = 0; i < B; i++) {
          double[] ce = new double[M];
          for (int m = 0; m < M; m++) {
            ce[m] = -Reference.logSoftmax(b.t()[m][i], 1)[b.y()[i]];
          }
          double[] sm = Reference.softmax(ce, 1);
          for (int m = 0; m < M; m++) {
            soft += (1 - sm[m]) / (M - 1) * perTeacher[m][i] / B;
          }
        }
      }
      case RANDOM -> {
        for (int i = 0; i < B; i++) {
          soft += perTeacher[choice][i] / B;
        }
      }
    }
    return new double[] {CE * hard + KD * soft, hard, soft};
  }

  /** {total, hard, soft} from the objective's graph, feeding {@code choice} to a random draw. */
  private static double[] graph(Objective objective, Batch b, int choice) {
    int m = b.t().length;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> z = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, K)));
      Placeholder<TFloat32> t = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, (long) m * K)));
      Placeholder<TInt32> y = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TFloat32> oneHot = tf.oneHot(y, tf.constant(K), tf.constant(1f), tf.constant(0f));
      Objective.LossTerms terms = objective.build(tf, z, t, new LossContext(y, oneHot, tf.constant((float) EPOCH)));
      float[] sf = new float[B * K];
      float[] tf32 = new float[B * m * K];
      for (int i = 0; i < B; i++) {
        for (int k = 0; k < K; k++) {
          sf[i * K + k] = (float) b.s()[i][k];
          for (int j = 0; j < m; j++) {
            tf32[(i * m + j) * K + k] = (float) b.t()[j][i][k];
          }
        }
      }
      try (Session s = new Session(g);
          TFloat32 zt = Tensors.floats(Shape.of(B, K), sf, 0, sf.length);
          TFloat32 tt = Tensors.floats(Shape.of(B, (long) m * K), tf32, 0, tf32.length);
          TInt32 yt = Tensors.ints(Shape.of(B), b.y(), 0, B);
          TInt32 ct = Tensors.ints(Shape.scalar(), new int[] {choice}, 0, 1)) {
        Session.Runner r = s.runner().feed(z, zt).feed(t, tt).feed(y, yt);
        if (g.operation("teacher_choice") != null) {
          r.feed("teacher_choice", ct);
        }
        r.fetch(tf.identity(terms.total())).fetch(tf.identity(terms.hard())).fetch(tf.identity(terms.soft()));
        try (Result out = r.run()) {
          return new double[] {
            ((TFloat32) out.get(0)).getFloat(), ((TFloat32) out.get(1)).getFloat(), ((TFloat32) out.get(2)).getFloat()
          };
        }
      }
    }
  }
}
