package dev.tfkd.features;

import dev.tfkd.graph.FeaturePoint;
import dev.tfkd.graph.Init;
import dev.tfkd.graph.Variables;
import dev.tfkd.losses.Parameter;
import dev.tfkd.training.FeatureInputs;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Contrastive representation distillation (Tian, Krishnan and Isola, ICLR 2020), as RepDistiller trains it on
 * CIFAR-100. Both networks' pooled vectors pass through an embedding, a linear layer to {@code dim} and L2
 * normalisation, giving {@code s_i} (student) and {@code t_i} (teacher); both embeddings are adapters (trained,
 * checkpointed, never exported). Two memory banks, {@code M_s} and {@code M_t}, hold one {@code dim}-row per
 * training example (initially uniform in {@code +-1/sqrt(dim/3)}). For example {@code i} of the batch with training
 * index {@code y_i}, the candidates are {@code j_0 = y_i} and {@code negatives} indices {@code j_1..j_K} drawn
 * uniformly, with replacement, from the {@code N} training examples (a stateless draw keyed by the run's seed and
 * the global step, so a resumed run draws what the uninterrupted one drew). With {@code tau}:
 *
 * <pre>
 *   p_s[i, k] = exp(&lt;M_t[j_k], s_i&gt; / tau) / Z_s      (student anchor, teacher bank)
 *   p_t[i, k] = exp(&lt;M_s[j_k], t_i&gt; / tau) / Z_t      (teacher anchor, student bank)
 *   h(p)      = -(1/B) (sum_i log(p[i,0] / (p[i,0] + K/N + eps)) + sum_i sum_{k&gt;=1} log((K/N) / (p[i,k] + K/N + eps)))
 *   loss      = h(p_s) + h(p_t),   eps = 1e-7
 * </pre>
 *
 * The NCE normalising constants {@code Z} are fixed at the first step, {@code Z = N * mean(exp(<., .>/tau))} over
 * that batch's {@code B (K+1)} scores, as the reference code does. After the loss has read them, the banks move
 * toward the batch: {@code M_s[y_i] = normalize(momentum M_s[y_i] + (1 - momentum) s_i)}, likewise {@code M_t} with
 * {@code t_i}. The banks and the constants are training state (non-trainable variables of the adapters): saved in
 * every checkpoint and restored on resume with the weights. The batch's example indices come from the trainer, which
 * knows them for data in memory; streamed data is refused. Memory: two {@code N x dim} float banks, and {@code 2 B
 * (K+1) dim} floats gathered per step. Defaults dim 128, 16384 negatives, tau 0.07, momentum 0.5; term weight 0.8.
 *
 * @param dim the embedding width, in [1, 4096]
 * @param negatives K, negatives per example, in [1, 1048576]
 * @param tau the temperature, in [0.01, 100]
 * @param momentum the memory update's momentum, in [0, 1]
 */
public record Crd(int dim, int negatives, float tau, float momentum) implements FeatureLoss {
  /** The weight RepDistiller's CIFAR-100 table uses. */
  public static final float DEFAULT_WEIGHT = 0.8f;
  /** The embedding width. */
  public static final Parameter DIM = Parameter.integer("dim", 128, 1, 4096);
  /** Negatives per example. */
  public static final Parameter NEGATIVES = Parameter.integer("negatives", 16384, 1, 1 << 20);
  /** The temperature. */
  public static final Parameter TAU = Parameter.temperature("tau", 0.07);
  /** The memory update's momentum. */
  public static final Parameter MOMENTUM = Parameter.closed("momentum", 0.5, 0, 1);

  /** The reference implementation's epsilon in the NCE loss. */
  static final float EPS = 1e-7f;

  /** Checks every parameter against its bounds. */
  public Crd {
    DIM.check("crd", dim);
    NEGATIVES.check("crd", negatives);
    TAU.check("crd", tau);
    MOMENTUM.check("crd", momentum);
  }

  /** The defaults: {@code crd(dim=128, negatives=16384, tau=0.07, momentum=0.5)}. */
  public Crd() {
    this(128, 16384, 0.07f, 0.5f);
  }

  @Override
  public String name() {
    return "crd";
  }

  @Override
  public String spec() {
    return FeatureLosses.spec(name(), "dim", dim, "negatives", negatives, "tau", tau, "momentum", momentum);
  }

  @Override
  public Operand<TFloat32> loss(Ops tf, FeatureInputs in, String adapterPrefix) {
    Operand<TFloat32> s = Points.student(name(), in, FeaturePoint.POOLED);
    Operand<TFloat32> t = Points.teacher(name(), in, FeaturePoint.POOLED);
    FeatureInputs.Examples examples = in.examples();
    if (examples == null) {
      throw new IllegalArgumentException(
          "crd keeps a memory bank row per training example and needs each batch's example indices: train on data"
              + " in memory (streamed training data cannot give them)");
    }
    long n = examples.count();
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("crd: a memory bank for " + n + " examples is beyond int32 indices");
    }
    Variables vars = in.adapters();
    Operand<TFloat32> vs = embed(tf, vars, adapterPrefix + "embed_student", FeatureOps.flatten(tf, s));
    Operand<TFloat32> vt = embed(tf, vars, adapterPrefix + "embed_teacher", FeatureOps.flatten(tf, t));
    Bank student = Bank.create(tf, vars, adapterPrefix + "student", n, dim);
    Bank teacher = Bank.create(tf, vars, adapterPrefix + "teacher", n, dim);
    Operand<TInt32> index = examples.index(tf);
    Operand<TInt32> candidates = candidates(tf, index, examples.step(tf), examples.seed(), negatives, (int) n);
    return contrast(tf, vs, vt, student, teacher, index, candidates, negatives, n, tau, momentum);
  }

  /** A memory bank with its normalising constant: {@code [N, dim]} rows and a scalar, 0 until the first step. */
  record Bank(Variable<TFloat32> memory, Variable<TFloat32> z) {
    static Bank create(Ops tf, Variables vars, String name, long n, int dim) {
      // Glorot-uniform with fans (dim, dim) is uniform in +-sqrt(6 / 2dim) = +-1/sqrt(dim/3), the reference's range.
      Variable<TFloat32> memory = vars.state(tf, name + "_memory", Shape.of(n, dim), Init.GLOROT_UNIFORM, dim, dim);
      Variable<TFloat32> z = vars.state(tf, name + "_z", Shape.scalar(), Init.ZEROS);
      return new Bank(memory, z);
    }
  }

  /**
   * A linear layer with bias to {@link #dim} and L2 normalisation of the rows. The kernel is uniform in {@code
   * +-1/sqrt(fanIn)} as PyTorch's {@code nn.Linear} draws it (Glorot-uniform with fan-out 5 fan-in has that range);
   * the bias starts at 0.
   */
  private Operand<TFloat32> embed(Ops tf, Variables vars, String name, Operand<TFloat32> x) {
    int in = (int) x.shape().get(1);
    Operand<TFloat32> w = vars.weight(tf, name + "_kernel", Shape.of(in, dim), Init.GLOROT_UNIFORM, in, 5 * in);
    Operand<TFloat32> b = vars.weight(tf, name + "_bias", Shape.of(dim), Init.ZEROS, in, dim);
    return FeatureOps.l2Normalize(tf, tf.nn.biasAdd(tf.linalg.matMul(x, w), b));
  }

  /**
   * The candidates {@code [B, K+1]}: each example's own index, then {@code negatives} indices uniform in {@code [0,
   * n)} from a stateless draw keyed by {@code (seed, step)}.
   */
  static Operand<TInt32> candidates(
      Ops tf, Operand<TInt32> index, Operand<TInt64> step, long seed, int negatives, int n) {
    Operand<TInt32> batch = tf.reshape(tf.shape(index), tf.constant(new int[0]));
    Operand<TInt32> shape = tf.stack(List.of(batch, tf.constant(negatives)));
    Operand<TInt64> key = tf.stack(List.of(tf.constant(seed), step));
    Operand<TInt32> drawn = tf.random.statelessRandomUniformInt(shape, key, tf.constant(0), tf.constant(n));
    return tf.concat(List.of(tf.expandDims(index, tf.constant(1)), drawn), tf.constant(1));
  }

  /**
   * The loss of both sides from the embeddings {@code vs}, {@code vt} ({@code [B, dim]}, unit rows), the banks, the
   * batch's indices and the candidates, with the banks' update and the constants' first setting as control
   * dependencies of the returned value: they run whenever the loss does, after the loss has read the banks.
   */
  static Operand<TFloat32> contrast(
      Ops tf,
      Operand<TFloat32> vs,
      Operand<TFloat32> vt,
      Bank student,
      Bank teacher,
      Operand<TInt32> index,
      Operand<TInt32> candidates,
      int negatives,
      long n,
      float tau,
      float momentum) {
    // The banks' rows are constants to the gradient (the reference detaches them).
    Operand<TFloat32> rowsS = tf.stopGradient(tf.gather(student.memory(), candidates, tf.constant(0)));
    Operand<TFloat32> rowsT = tf.stopGradient(tf.gather(teacher.memory(), candidates, tf.constant(0)));
    // The student's embedding against the teacher's bank, and the teacher's against the student's.
    Operand<TFloat32> expS = scores(tf, rowsT, vs, tau);
    Operand<TFloat32> expT = scores(tf, rowsS, vt, tau);
    Operand<TFloat32> zS = constant(tf, student.z(), expS, n);
    Operand<TFloat32> zT = constant(tf, teacher.z(), expT, n);
    Operand<TFloat32> loss =
        tf.math.add(nce(tf, tf.math.div(expS, zS), negatives, n), nce(tf, tf.math.div(expT, zT), negatives, n));
    // The updates wait for every read of the banks (the gathers above and Z's first value).
    Ops after = tf.withControlDependencies(List.of(rowsS, rowsT, zS, zT));
    List<Op> updates =
        List.of(
            update(after, student.memory(), index, vs, momentum),
            update(after, teacher.memory(), index, vt, momentum),
            after.assign(student.z(), zS),
            after.assign(teacher.z(), zT));
    return tf.withControlDependencies(updates).identity(loss);
  }

  /** {@code exp(<rows[i,k], v[i]> / tau)}, {@code [B, K+1]}. */
  private static Operand<TFloat32> scores(Ops tf, Operand<TFloat32> rows, Operand<TFloat32> v, float tau) {
    Operand<TFloat32> dot =
        tf.reduceSum(tf.math.mul(rows, tf.expandDims(v, tf.constant(1))), tf.constant(2), ReduceSum.keepDims(false));
    return tf.math.exp(tf.math.div(dot, tf.constant(tau)));
  }

  /** {@code z} once set (positive), else {@code n * mean(scores)} of this batch; a constant to the gradient. */
  private static Operand<TFloat32> constant(Ops tf, Variable<TFloat32> z, Operand<TFloat32> scores, long n) {
    Operand<TFloat32> current = tf.identity(z);
    Operand<TFloat32> first = tf.math.mul(FeatureOps.meanAll(tf, scores), tf.constant((float) n));
    return tf.stopGradient(tf.select(tf.math.greater(current, tf.constant(0f)), current, first));
  }

  /** RepDistiller's {@code ContrastLoss} of the normalised scores {@code p [B, K+1]}, positive first. */
  static Operand<TFloat32> nce(Ops tf, Operand<TFloat32> p, int negatives, long n) {
    Operand<TFloat32> noise = tf.constant((float) ((double) negatives / n));
    Operand<TFloat32> shift = tf.math.add(noise, tf.constant(EPS));
    Operand<TFloat32> pos = tf.slice(p, tf.constant(new int[] {0, 0}), tf.constant(new int[] {-1, 1}));
    Operand<TFloat32> neg = tf.slice(p, tf.constant(new int[] {0, 1}), tf.constant(new int[] {-1, -1}));
    Operand<TFloat32> logD1 = tf.math.log(tf.math.div(pos, tf.math.add(pos, shift)));
    Operand<TFloat32> logD0 = tf.math.log(tf.math.div(noise, tf.math.add(neg, shift)));
    Operand<TFloat32> sum = tf.math.add(FeatureOps.sumAll(tf, logD1), FeatureOps.sumAll(tf, logD0));
    return tf.math.neg(tf.math.div(sum, FeatureOps.batchFloat(tf, p)));
  }

  /** {@code memory[index] = normalize(momentum memory[index] + (1 - momentum) v)}. */
  private static Op update(
      Ops tf, Variable<TFloat32> memory, Operand<TInt32> index, Operand<TFloat32> v, float momentum) {
    Operand<TFloat32> old = tf.gather(memory, index, tf.constant(0));
    Operand<TFloat32> moved =
        tf.math.add(
            tf.math.mul(old, tf.constant(momentum)), tf.math.mul(tf.stopGradient(v), tf.constant(1 - momentum)));
    return tf.scatterUpdate(memory, index, FeatureOps.l2Normalize(tf, moved));
  }
}
