package dev.tfkd.features;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.graph.Init;
import dev.tfkd.graph.Tensors;
import dev.tfkd.graph.Variables;
import dev.tfkd.training.FeatureInputs;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * CRD against its float64 reference ({@link CrdReference}) through the whole graph path (embeddings, banks, drawn
 * candidates): the value, the gradient with respect to the student's pooled vector against central finite
 * differences (the constants Z held fixed, as the graph holds them), the memory update and Z's first setting, the
 * second step with Z kept, and the negatives' draw (keyed by seed and step only).
 */
class CrdTest {

  /** One configuration: the loss and the sizes. */
  record Case(Crd crd, int batch, int inS, int inT, long n) {
    @Override
    public String toString() {
      return crd.spec() + " B=" + batch + " N=" + n;
    }
  }

  static List<Case> cases() {
    return List.of(new Case(new Crd(4, 7, 0.07f, 0.5f), 3, 5, 6, 10), new Case(new Crd(3, 2, 0.5f, 0.9f), 4, 4, 2, 5));
  }

  /** The loss built over placeholders, with constant embedding weights and real bank variables. */
  private static final class Harness implements AutoCloseable {
    final Graph graph = new Graph();
    final Session session;
    final Placeholder<TFloat32> s;
    final Placeholder<TFloat32> t;
    final Operand<TInt32> index;
    final Operand<TInt64> step;
    final Operand<TFloat32> loss;
    final Output<TFloat32> gradient;
    final Operand<TInt32> candidates;
    final Map<String, double[]> initial = new LinkedHashMap<>();
    final Map<String, Operand<TFloat32>> state = new LinkedHashMap<>();
    final Case c;

    Harness(Case c, long seed) {
      this.c = c;
      Ops tf = Ops.create(graph);
      s = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(c.batch(), c.inS())));
      t = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(c.batch(), c.inT())));
      FeatureInputs.Examples examples = new FeatureInputs.Examples(c.n(), seed);
      FeatureInputs in =
          new FeatureInputs(Map.of("pooled", s), Map.of("pooled", tf.stopGradient(t)), new TestVariables(), examples);
      loss = c.crd().loss(tf, in, "a_");
      gradient = tf.gradients(loss, List.of(s)).dy(0);
      index = examples.index(tf);
      step = examples.step(tf);
      candidates = Crd.candidates(tf, index, step, seed, c.crd().negatives(), (int) c.n());
      session = new Session(graph);
    }

    record Out(double loss, double[] gradient, int[][] candidates) {}

    Out step(double[] sv, double[] tv, int[] idx, long stepValue) {
      try (TFloat32 st = floats(Shape.of(c.batch(), c.inS()), sv);
          TFloat32 tt = floats(Shape.of(c.batch(), c.inT()), tv);
          TInt32 it = Tensors.ints(Shape.of(idx.length), idx, 0, idx.length);
          TInt64 step64 = TInt64.scalarOf(stepValue);
          Result r =
              session.runner().feed(s, st).feed(t, tt).feed(index, it).feed(step, step64).fetch(loss).fetch(gradient)
                  .fetch(candidates).run()) {
        return new Out(((TFloat32) r.get(0)).getFloat(), doubles((TFloat32) r.get(1)), ints((TInt32) r.get(2), idx.length));
      }
    }

    /** The candidates alone (the loss, and with it the memory update, does not run). */
    int[][] candidates(int[] idx, long stepValue) {
      try (TInt32 it = Tensors.ints(Shape.of(idx.length), idx, 0, idx.length);
          TInt64 step64 = TInt64.scalarOf(stepValue);
          Result r = session.runner().feed(index, it).feed(step, step64).fetch(candidates).run()) {
        return ints((TInt32) r.get(0), idx.length);
      }
    }

    double[] read(String name) {
      try (Result r = session.runner().fetch(state.get(name)).run()) {
        return doubles((TFloat32) r.get(0));
      }
    }

    @Override
    public void close() {
      session.close();
      graph.close();
    }

    /** Embedding weights as constants drawn from the name; state as variables from drawn values (Z from 0). */
    private final class TestVariables implements Variables {
      @Override
      public Operand<TFloat32> weight(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut) {
        double[] d = FeatureHarness.random(new SplittableRandom(name.hashCode()), (int) shape.size(), 0.6);
        initial.put(name, d);
        return tf.constant(shape, DataBuffers.of(toFloats(d), true, false));
      }

      @Override
      public Variable<TFloat32> state(Ops tf, String name, Shape shape, Init init) {
        double[] d =
            init == Init.ZEROS ? new double[(int) shape.size()] : FeatureHarness.random(new SplittableRandom(name.hashCode()), (int) shape.size(), 0.5);
        initial.put(name, d);
        Variable<TFloat32> v = tf.withName(name).variable(tf.constant(shape, DataBuffers.of(toFloats(d), true, false)));
        state.put(name, tf.identity(v));
        return v;
      }
    }
  }

  private static float[] toFloats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }

  private static TFloat32 floats(Shape shape, double[] d) {
    float[] f = toFloats(d);
    return Tensors.floats(shape, f, 0, f.length);
  }

  private static double[] doubles(TFloat32 t) {
    float[] f = new float[(int) t.shape().size()];
    t.asRawTensor().data().asFloats().read(f);
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private static int[][] ints(TInt32 t, int rows) {
    int[] flat = new int[(int) t.shape().size()];
    t.asRawTensor().data().asInts().read(flat);
    int[][] out = new int[rows][];
    int cols = flat.length / rows;
    for (int i = 0; i < rows; i++) {
      out[i] = java.util.Arrays.copyOfRange(flat, i * cols, (i + 1) * cols);
    }
    return out;
  }

  private static int[] distinct(SplittableRandom rng, int count, long n) {
    int[] perm = dev.tfkd.data.Splits.permutation((int) n, rng);
    return java.util.Arrays.copyOf(perm, count);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void valueGradientAndMemoryUpdateMatchTheFloat64Reference(Case c) {
    SplittableRandom rng = new SplittableRandom(c.toString().hashCode());
    Crd crd = c.crd();
    int dim = crd.dim();
    double tau = crd.tau();
    try (Harness h = new Harness(c, 11)) {
      double[] ws = h.initial.get("a_embed_student_kernel");
      double[] bs = h.initial.get("a_embed_student_bias");
      double[] wt = h.initial.get("a_embed_teacher_kernel");
      double[] bt = h.initial.get("a_embed_teacher_bias");
      double[] ms = h.initial.get("a_student_memory");
      double[] mt = h.initial.get("a_teacher_memory");
      assertEquals(c.n() * dim, ms.length);
      double zs = Double.NaN;
      double zt = Double.NaN;
      for (int stepNo = 0; stepNo < 2; stepNo++) {
        double[] s = FeatureHarness.random(rng, c.batch() * c.inS(), 1.5);
        double[] t = FeatureHarness.random(rng, c.batch() * c.inT(), 1.5);
        int[] idx = distinct(rng, c.batch(), c.n());
        Harness.Out out = h.step(s, t, idx, stepNo);
        int[][] cand = out.candidates();
        double[] es = CrdReference.embed(s, c.batch(), c.inS(), ws, bs, dim);
        double[] et = CrdReference.embed(t, c.batch(), c.inT(), wt, bt, dim);
        if (stepNo == 0) {
          // The first step sets Z from its own scores.
          zs = CrdReference.firstZ(CrdReference.scores(mt, es, cand, dim, tau), c.n());
          zt = CrdReference.firstZ(CrdReference.scores(ms, et, cand, dim, tau), c.n());
        }
        double expected = CrdReference.loss(es, et, ms, mt, cand, dim, tau, zs, zt, c.n());
        assertAllClose(out.loss(), expected, 1e-4, 1e-6, c + " value, step " + stepNo);
        assertTrue(expected > 0, c + ": the NCE loss is positive, got " + expected);

        // Central differences of the reference in the student's pooled vector, Z and banks held fixed.
        double[] fd = new double[s.length];
        double max = 0;
        for (int i = 0; i < s.length; i++) {
          double keep = s[i];
          double step = 1e-6 * Math.max(1, Math.abs(keep));
          s[i] = keep + step;
          double up = CrdReference.loss(CrdReference.embed(s, c.batch(), c.inS(), ws, bs, dim), et, ms, mt, cand, dim, tau, zs, zt, c.n());
          s[i] = keep - step;
          double down = CrdReference.loss(CrdReference.embed(s, c.batch(), c.inS(), ws, bs, dim), et, ms, mt, cand, dim, tau, zs, zt, c.n());
          s[i] = keep;
          fd[i] = (up - down) / (2 * step);
          max = Math.max(max, Math.abs(fd[i]));
        }
        assertTrue(max > 0, c + ": the loss should depend on the student's pooled vector");
        assertAllClose(out.gradient(), fd, 2e-3, 2e-4 * max + 1e-9);

        // The memory update and the constants, against the reference formula.
        double[] msAfter = h.read("a_student_memory");
        double[] mtAfter = h.read("a_teacher_memory");
        assertAllClose(msAfter, CrdReference.update(ms, idx, es, dim, crd.momentum()), 1e-5, 1e-6);
        assertAllClose(mtAfter, CrdReference.update(mt, idx, et, dim, crd.momentum()), 1e-5, 1e-6);
        assertAllClose(h.read("a_student_z")[0], zs, 1e-5, 0, c + " Z_s");
        assertAllClose(h.read("a_teacher_z")[0], zt, 1e-5, 0, c + " Z_t");
        // The next step reads the banks as the graph left them.
        ms = msAfter;
        mt = mtAfter;
      }
    }
  }

  @Test
  void negativesDependOnTheSeedAndTheStepOnly() {
    Case c = new Case(new Crd(2, 50, 0.07f, 0.5f), 3, 2, 2, 1000);
    int[] idx = {5, 999, 0};
    try (Harness a = new Harness(c, 3); Harness b = new Harness(c, 3); Harness other = new Harness(c, 4)) {
      int[][] first = a.candidates(idx, 7);
      for (int i = 0; i < idx.length; i++) {
        assertEquals(idx[i], first[i][0], "the positive comes first");
        assertEquals(51, first[i].length);
        for (int k = 1; k < first[i].length; k++) {
          assertTrue(first[i][k] >= 0 && first[i][k] < 1000, "index " + first[i][k]);
        }
        assertArrayEquals(first[i], a.candidates(idx, 7)[i], "same step, same draw");
        assertArrayEquals(first[i], b.candidates(idx, 7)[i], "another graph, same seed and step");
      }
      assertFalse(java.util.Arrays.deepEquals(first, a.candidates(idx, 8)), "the next step draws anew");
      assertFalse(java.util.Arrays.deepEquals(first, other.candidates(idx, 7)), "another seed draws anew");
      // Uniform over the examples: 150 draws from 1000 hit many distinct ones.
      java.util.Set<Integer> seen = new java.util.HashSet<>();
      for (int[] row : first) {
        for (int k = 1; k < row.length; k++) {
          seen.add(row[k]);
        }
      }
      assertTrue(seen.size() > 120, "distinct negatives: " + seen.size());
    }
  }

  @Test
  void specDefaultsAndRefusals() {
    assertEquals("crd(dim=128, negatives=16384, tau=0.07, momentum=0.5)", new Crd().spec());
    assertEquals(new Crd(), FeatureLosses.parse("crd"));
    assertEquals(new Crd(64, 4096, 0.1f, 0.9f), FeatureLosses.parse("crd(dim=64, negatives=4096, tau=0.1, momentum=0.9)"));
    assertEquals(0.8f, FeatureLosses.entry("crd").defaultWeight());
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("crd(negatives=0)"));
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("crd(momentum=1.5)"));
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("crd(dim=2.5)"));
  }

  @Test
  void inputsWithoutExampleIndicesAreRefusedInOneLine() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> p = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      Variables vars = new dev.tfkd.graph.TrainingVariables(1);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class,
              () -> new Crd().loss(tf, new FeatureInputs(Map.of("pooled", p), Map.of("pooled", p), vars), "a_"));
      assertTrue(e.getMessage().contains("example indices") && !e.getMessage().contains("\n"), e.getMessage());
    }
  }
}
