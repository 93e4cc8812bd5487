package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The alpha-beta divergence (Cichocki, Cruces and Amari 2011; as a KD loss: ABKD, Wang et al. 2025, "ABKD: Pursuing
 * a Proper Allocation of the Probability Mass in Knowledge Distillation via alpha-beta-Divergence"), with
 * {@code p = softmax(z_t / T)}, {@code q = softmax(z_s / T)}:
 *
 * <pre>
 *   a, b, a+b != 0:   -(1/(a b)) sum_k [p^a q^b - a/(a+b) p^(a+b) - b/(a+b) q^(a+b)]
 *   a != 0, b = 0:    (1/a^2) sum_k [p^a log(p^a / q^a) - p^a + q^a]
 *   a = 0, b != 0:    (1/b^2) sum_k [q^b log(q^b / p^b) - q^b + p^b]
 *   a = -b != 0:      (1/a^2) sum_k [(p/q)^a - a log(p/q) - 1]
 *   a = b = 0:        (1/2) sum_k (log p - log q)^2
 * </pre>
 *
 * The limit forms are used when a parameter is exactly 0 (or {@code a + b} is exactly 0); they are the limits of
 * the general form. {@code (a, b) = (1, 0)} is {@code KL(p || q)}, {@code (0, 1)} is {@code KL(q || p)}. Powers are
 * {@code exp(a log p)}. Zero when {@code p = q}, never negative. Negative a or b raise probabilities to negative
 * powers, which overflow for extreme logits: that is the divergence, not a numerical accident.
 *
 * @param alpha a, in [-10, 10] (default 0.8)
 * @param beta b, in [-10, 10] (default 0.3)
 * @param temperature T, in [0.01, 100] (default 1)
 */
public record AlphaBeta(float alpha, float beta, float temperature) implements Tempered {
  /** Default alpha. */
  public static final float DEFAULT_ALPHA = 0.8f;
  /** Default beta. */
  public static final float DEFAULT_BETA = 0.3f;
  /** a and its bounds: beyond them p^a underflows float32 for ordinary probabilities. */
  public static final Parameter A = Parameter.closed("a", DEFAULT_ALPHA, -10, 10);
  /** b and its bounds. */
  public static final Parameter B = Parameter.closed("b", DEFAULT_BETA, -10, 10);
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", 1);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public AlphaBeta {
    A.check("alpha-beta", alpha);
    B.check("alpha-beta", beta);
    TEMPERATURE.check("alpha-beta", temperature);
  }

  @Override
  public String name() {
    return "alpha-beta";
  }

  @Override
  public String spec() {
    return Divergences.spec(name(), "a", alpha, "b", beta, "T", temperature);
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, GraphTemperature t, LossContext context) {
    Operand<TFloat32> lp = t.logSoftmax(tf, teacherLogits);
    Operand<TFloat32> lq = t.logSoftmax(tf, studentLogits);
    float a = alpha;
    float b = beta;
    Operand<TFloat32> terms;
    float scale;
    if (a == 0f && b == 0f) {
      terms = tf.math.square(tf.math.sub(lp, lq));
      scale = 0.5f;
    } else if (b == 0f) {
      terms = powerLimit(tf, lp, lq, a);
      scale = 1f / (a * a);
    } else if (a == 0f) {
      terms = powerLimit(tf, lq, lp, b);
      scale = 1f / (b * b);
    } else if (a + b == 0f) {
      Operand<TFloat32> logRatio = tf.math.sub(lp, lq);
      terms =
          tf.math.sub(
              tf.math.sub(pow(tf, logRatio, a), tf.math.mul(tf.constant(a), logRatio)), tf.constant(1f));
      scale = 1f / (a * a);
    } else {
      float s = a + b;
      Operand<TFloat32> mixed = tf.math.exp(tf.math.add(tf.math.mul(tf.constant(a), lp), tf.math.mul(tf.constant(b), lq)));
      terms =
          tf.math.sub(
              tf.math.sub(mixed, tf.math.mul(tf.constant(a / s), pow(tf, lp, s))),
              tf.math.mul(tf.constant(b / s), pow(tf, lq, s)));
      scale = -1f / (a * b);
    }
    return tf.math.mul(tf.constant(scale), SoftmaxOps.rowSum(tf, terms));
  }

  /** {@code x^c log(x^c / y^c) - x^c + y^c} from logs: the b = 0 (or, swapped, a = 0) limit's summand. */
  private static Operand<TFloat32> powerLimit(Ops tf, Operand<TFloat32> lx, Operand<TFloat32> ly, float c) {
    Operand<TFloat32> xc = pow(tf, lx, c);
    Operand<TFloat32> logRatio = tf.math.mul(tf.constant(c), tf.math.sub(lx, ly));
    return tf.math.add(tf.math.sub(tf.math.mul(xc, logRatio), xc), pow(tf, ly, c));
  }

  /** {@code exp(c * logX)}. */
  static Operand<TFloat32> pow(Ops tf, Operand<TFloat32> logX, float c) {
    return tf.math.exp(tf.math.mul(tf.constant(c), logX));
  }
}
