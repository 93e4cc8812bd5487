package dev.tfkd.features;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.graph.Tensors;
import dev.tfkd.losses.Divergences;
import dev.tfkd.losses.LossContext;
import dev.tfkd.testing.Assertions;
import dev.tfkd.training.Distillation;
import dev.tfkd.training.Objective;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** The loss spec: parsing, defaults, refusals, and the value of logit-only specs against {@link Distillation}. */
class LossSpecTest {

  @Test
  void parsesTermsWeightsAndDefaults() {
    LossSpec s = LossSpec.parse("ce:1, kl(T=4):0.9, at:1000, sp, fitnet(stage=1):50, cswt:kl, cswt(Tmin=1, Tmax=8):dkd:0.5");
    assertEquals(7, s.terms().size());
    assertTrue(s.terms().get(0).isCrossEntropy());
    assertEquals("kl(T=4)", s.terms().get(1).spec());
    assertEquals(0.9f, s.terms().get(1).weight());
    assertEquals(new At(), s.terms().get(2).feature());
    assertEquals(Sp.DEFAULT_WEIGHT, s.terms().get(3).weight());
    assertEquals(new FitNet(1), s.terms().get(4).feature());
    assertEquals(50f, s.terms().get(4).weight());
    assertEquals(1f, s.terms().get(5).weight());
    assertTrue(s.terms().get(5).spec().startsWith("cswt("), s.terms().get(5).spec());
    assertEquals(0.5f, s.terms().get(6).weight());
    assertTrue(s.needsTeacher());
    assertTrue(s.needsFeatures());
    // describe() writes every term in full and parses back to the same spec.
    assertEquals(s, LossSpec.parse(s.describe()));
    assertEquals("ce:1, kl(T=4):0.9, at:1000", LossSpec.parse("ce, kl(T=4):0.9, at").describe());
    LossSpec logitsOnly = LossSpec.parse("ce:0.1, kl:0.9");
    assertFalse(logitsOnly.needsFeatures());
    assertFalse(LossSpec.parse("ce").needsTeacher());
  }

  @Test
  void refusesBadSpecsNamingTheTerm() {
    assertTrue(message("ce:1, nope:2").contains("'nope'"), message("ce:1, nope:2"));
    assertTrue(message("ce:1, kl:-1").contains("weight"), message("ce:1, kl:-1"));
    assertTrue(message("ce:1, kl:Infinity").contains("weight"));
    assertTrue(message("at:1000").contains("a term on the logits"), message("at:1000"));
    assertTrue(message("ce:0, at:1000").contains("a term on the logits"));
    assertTrue(message("ce:1,,kl").contains("empty term"));
    assertTrue(message("ce:1, kl(T=0)").contains("kl(T=0)"), message("ce:1, kl(T=0)"));
    assertTrue(message("ce:1, fitnet(stage=0)").contains("stage"), message("ce:1, fitnet(stage=0)"));
  }

  private static String message(String spec) {
    return assertThrows(IllegalArgumentException.class, () -> LossSpec.parse(spec)).getMessage();
  }

  /** {@code ce:a, D:b} computes what {@code Distillation(a, b, D)} computes: total, hard and soft. */
  @Test
  void logitTermsEqualTheDistillationObjective() {
    int b = 5;
    int k = 4;
    SplittableRandom rng = new SplittableRandom(3);
    float[] s = new float[b * k];
    float[] t = new float[b * k];
    int[] y = new int[b];
    for (int i = 0; i < b * k; i++) {
      s[i] = (float) (3 * rng.nextDouble() - 1.5);
      t[i] = (float) (3 * rng.nextDouble() - 1.5);
    }
    for (int i = 0; i < b; i++) {
      y[i] = rng.nextInt(k);
    }
    float[] spec = terms(LossSpec.parse("ce:0.1, dkd(beta=4):0.9"), s, t, y, b, k);
    float[] old = terms(new Distillation(0.1f, 0.9f, Divergences.parse("dkd(beta=4)")), s, t, y, b, k);
    // total and hard agree; the spec's soft part is weighted (0.9 x), Distillation's is not.
    assertAllClose(spec[0], old[0], Assertions.FLOAT32_TIGHT);
    assertAllClose(spec[1], old[1], Assertions.FLOAT32_TIGHT);
    assertAllClose(spec[2], 0.9 * old[2], Assertions.FLOAT32_TIGHT);
    assertTrue(old[2] > 0);
  }

  private static float[] terms(Objective o, float[] s, float[] t, int[] y, int b, int k) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      try (TFloat32 st = Tensors.floats(Shape.of(b, k), s, 0, s.length);
          TFloat32 tt = Tensors.floats(Shape.of(b, k), t, 0, t.length);
          TInt32 yt = Tensors.ints(Shape.of(b), y, 0, b)) {
        Operand<TInt32> labels = tf.constantOf(yt);
        Operand<TFloat32> hot = tf.oneHot(labels, tf.constant(k), tf.constant(1f), tf.constant(0f));
        Objective.LossTerms lt =
            o.build(tf, tf.constantOf(st), tf.constantOf(tt), new LossContext(labels, hot, tf.constant(30f)));
        try (Session session = new Session(g);
            Result r = session.runner().fetch(lt.total()).fetch(lt.hard()).fetch(lt.soft()).run()) {
          return new float[] {
            ((TFloat32) r.get(0)).getFloat(), ((TFloat32) r.get(1)).getFloat(), ((TFloat32) r.get(2)).getFloat()
          };
        }
      }
    }
  }
}
