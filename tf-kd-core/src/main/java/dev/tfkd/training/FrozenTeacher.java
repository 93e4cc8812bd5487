package dev.tfkd.training;

import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Batches;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.FrozenVariables;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.RestoredVariables;
import dev.tfkd.graph.TrainingVariables;
import dev.tfkd.graph.Variables;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * A teacher whose weights are fixed values held in Java: an architecture plus every variable it reads in
 * inference mode. It runs two ways:
 *
 * <ul>
 *   <li>online, inside a student's training graph ({@link #logits(Ops, Operand)}): the forward pass with the weights
 *       as constants reads the same (possibly augmented) input placeholder as the student, in the same session
 *       step, so no logits cross the Java boundary;
 *   <li>offline, in its own graph and session ({@link #logits(Dataset, int, ConfigProto)}), batched over a whole
 *       dataset, which is what {@link TeacherLogitCache} stores.
 * </ul>
 *
 * Immutable; the weight arrays are shared, never modified.
 */
public final class FrozenTeacher {
  /** The name scope the teacher's ops get inside a student graph. */
  public static final String SCOPE = "teacher";

  private final Architecture architecture;
  private final Map<String, FrozenVariables.Value> weights;
  private final String fingerprint;

  /**
   * A teacher with fixed weights.
   *
   * @param architecture the teacher's architecture
   * @param weights its variable values by name
   */
  public FrozenTeacher(Architecture architecture, Map<String, FrozenVariables.Value> weights) {
    this.architecture = Objects.requireNonNull(architecture, "architecture");
    this.weights = Map.copyOf(weights);
    this.fingerprint = computeFingerprint();
  }

  /** The teacher trained into {@code checkpointPrefix} (as {@link Trainer} writes it). */
  public static FrozenTeacher fromCheckpoint(Architecture architecture, Path checkpointPrefix, ConfigProto config) {
    return capture(architecture, new RestoredVariables(), config, checkpointPrefix);
  }

  /** The teacher with the seeded initial weights training would start from (for benchmarks and tests). */
  public static FrozenTeacher initial(Architecture architecture, long seed) {
    return capture(architecture, new TrainingVariables(seed), SessionSettings.ofThreads(1).toConfigProto(), null);
  }

  private static FrozenTeacher capture(Architecture architecture, Variables vars, ConfigProto config, Path restore) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(InferenceModel.batchShape(architecture.inputShape())));
      architecture.build(tf, x, vars, Architecture.Mode.INFERENCE);
      List<GraphOperation> variables = new ArrayList<>();
      for (Iterator<GraphOperation> it = g.operations(); it.hasNext(); ) {
        GraphOperation op = it.next();
        if (op.type().equals("VariableV2")) {
          variables.add(op);
        }
      }
      Map<String, FrozenVariables.Value> values = new TreeMap<>();
      try (Session s = new Session(g, config)) {
        if (restore != null) {
          s.restore(restore.toString());
        }
        for (GraphOperation op : variables) {
          try (Result r = s.runner().fetch(op.output(0)).run()) {
            TFloat32 t = (TFloat32) r.get(0);
            float[] data = new float[(int) t.shape().size()];
            t.asRawTensor().data().asFloats().read(data);
            values.put(op.name(), new FrozenVariables.Value(t.shape(), data));
          }
        }
      }
      return new FrozenTeacher(architecture, values);
    }
  }

  /**
   * The teacher's architecture.
   *
   * @return the architecture
   */
  public Architecture architecture() {
    return architecture;
  }

  /**
   * The number of classes the teacher scores.
   *
   * @return K
   */
  public int numClasses() {
    return architecture.numClasses();
  }

  /** Every variable's value, by name. */
  public Map<String, FrozenVariables.Value> weights() {
    return weights;
  }

  /**
   * Adds the teacher's inference forward pass on {@code inputs} to the graph of {@code tf}, under the name scope
   * {@value #SCOPE}, with a gradient barrier on its logits: nothing the student's loss does reaches it.
   */
  public Operand<TFloat32> logits(Ops tf, Operand<TFloat32> inputs) {
    return forward(tf, inputs).logits();
  }

  /**
   * Adds the teacher's inference forward pass on {@code inputs} to the graph of {@code tf}, under the name scope
   * {@value #SCOPE}, and returns its logits and every feature point ({@link dev.tfkd.graph.FeaturePoint}) with the
   * batch-norm parameters of its pre-ReLU points, each behind a gradient barrier: nothing the student's loss does
   * reaches the teacher.
   *
   * @param tf where to add the ops
   * @param inputs the batch the student is fed
   * @return the teacher's logits and feature points (no update ops)
   */
  public Forward forward(Ops tf, Operand<TFloat32> inputs) {
    Ops scoped = tf.withSubScope(SCOPE);
    Forward f = architecture.build(scoped, inputs, new FrozenVariables(weights), Architecture.Mode.INFERENCE);
    Map<String, Operand<TFloat32>> features = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, Operand<TFloat32>> e : f.features().entrySet()) {
      features.put(e.getKey(), scoped.withName(e.getKey()).stopGradient(e.getValue()));
    }
    Map<String, dev.tfkd.graph.BatchNormParameters> norms = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, dev.tfkd.graph.BatchNormParameters> e : f.batchNorms().entrySet()) {
      norms.put(e.getKey(), new dev.tfkd.graph.BatchNormParameters(
          scoped.stopGradient(e.getValue().gamma()), scoped.stopGradient(e.getValue().beta())));
    }
    return new Forward(features.get(dev.tfkd.graph.FeaturePoint.LOGITS), List.of(), features, norms);
  }

  /** The teacher's logits for every example of {@code data}, {@code size x K}, in batches, in its own session. */
  public float[] logits(Dataset data, int batchSize, ConfigProto config) {
    Trainer.checkCompatible(architecture, data);
    int k = numClasses();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(InferenceModel.batchShape(architecture.inputShape())));
      Operand<TFloat32> logits =
          architecture.build(tf, x, new FrozenVariables(weights), Architecture.Mode.INFERENCE).logits();
      try (Session s = new Session(g, config)) {
        return Batches.logits(s, x, logits, k, data, batchSize);
      }
    }
  }

  /**
   * SHA-256 of the architecture's name and every weight (name, shape, values), hex: two teachers with the same
   * fingerprint compute the same function.
   */
  public String fingerprint() {
    return fingerprint;
  }

  private String computeFingerprint() {
    MessageDigest md = sha256();
    md.update(architecture.name().getBytes(StandardCharsets.UTF_8));
    ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (Map.Entry<String, FrozenVariables.Value> w : new TreeMap<>(weights).entrySet()) {
      md.update((byte) 0);
      md.update(w.getKey().getBytes(StandardCharsets.UTF_8));
      md.update(w.getValue().shape().toString().getBytes(StandardCharsets.UTF_8));
      float[] d = w.getValue().data();
      for (int i = 0; i < d.length; ) {
        buf.clear();
        while (i < d.length && buf.remaining() >= 4) {
          buf.putFloat(d[i++]);
        }
        buf.flip();
        md.update(buf);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return architecture.name() + " (frozen, " + fingerprint.substring(0, 12) + ")";
  }
}
