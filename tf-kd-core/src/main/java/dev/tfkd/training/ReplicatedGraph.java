package dev.tfkd.training;

import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.TrainingVariables;
import dev.tfkd.graph.Variables;
import dev.tfkd.losses.LossContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * The training graph of {@link TrainingGraph}, replicated as {@link Replication} says: the same placeholders and
 * named reads (a step feeds and fetches exactly what it feeds and fetches on one device), with
 *
 * <ul>
 *   <li>the model's variables, named as on one device (so checkpoints and exports are the same), on the variable
 *       devices, spread by size;
 *   <li>replica {@code r} on rows {@code [r*ceil(m/R), (r+1)*ceil(m/R))} of the fed batch of {@code m}, its forward
 *       pass, loss and gradients on its device;
 *   <li>the loss terms and each variable's gradient averaged with weights {@code rows_r / m} (an empty share
 *       weighs 0), so the update is the one-device update of the whole batch; the averaging runs beside the
 *       variable, and the optimizer's update with it.
 * </ul>
 *
 * <p>TensorFlow's gradient builder gives gradient ops no device, and an op without one runs on the session's own
 * task. The graph is therefore assembled in a scratch graph, the devices of gradient and averaging ops are set in
 * its {@code GraphDef} by the name scopes they were built in ({@code replica_R/}, {@code average_I/}), and the
 * result is imported into the training graph.
 */
final class ReplicatedGraph {
  private static final Pattern REPLICA = Pattern.compile("^replica_(\\d+)/");
  private static final Pattern AVERAGE = Pattern.compile("^average_(\\d+)/");

  private ReplicatedGraph() {}

  /** Builds the replicated training graph in {@code graph}; as {@link TrainingGraph#build}. */
  static TrainingGraph build(
      Graph graph,
      Architecture architecture,
      Objective objective,
      FrozenTeacher onlineTeacher,
      TrainConfig config,
      TrainingSetup setup,
      Replication replication) {
    if (!setup.hooks().isEmpty()) {
      throw new IllegalArgumentException(
          "this run's training hooks cannot be replicated: train it on one device (no --devices or --cluster)");
    }
    Names names;
    GraphDef placed;
    try (Graph scratch = new Graph()) {
      names = assemble(scratch, architecture, objective, onlineTeacher, config, setup, replication);
      placed = place(scratch.toGraphDef(), replication, names.trainable());
    }
    graph.importGraphDef(placed);
    return names.resolve(graph);
  }

  /** Where the built graph's parts are, by op name, for finding them again after the import. */
  private record Names(
      String x,
      String labels,
      String epoch,
      String learningRate,
      String teacher,
      String total,
      String hard,
      String soft,
      String logits,
      String evalLogits,
      String step,
      List<String> trainable,
      long parameters) {

    @SuppressWarnings("unchecked")
    TrainingGraph resolve(Graph g) {
      return new TrainingGraph(
          new Placeholder<>(g.operationOrThrow(x)),
          new Placeholder<>(g.operationOrThrow(labels)),
          new Placeholder<>(g.operationOrThrow(epoch)),
          new Placeholder<>(g.operationOrThrow(learningRate)),
          teacher == null ? null : new Placeholder<>(g.operationOrThrow(teacher)),
          new Objective.LossTerms(
              floats(g, total),
              floats(g, hard),
              floats(g, soft)),
          floats(g, logits),
          floats(g, evalLogits),
          new NamedOp(g.operationOrThrow(step)),
          parameters,
          java.util.Map.of(),
          null,
          null);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Output<TFloat32> floats(Graph g, String op) {
    return (Output) g.operationOrThrow(op).output(0);
  }

  /** An operation of an imported graph as an {@link Op}. */
  private record NamedOp(Operation op) implements Op {}

  private static Names assemble(
      Graph scratch,
      Architecture architecture,
      Objective objective,
      FrozenTeacher onlineTeacher,
      TrainConfig config,
      TrainingSetup setup,
      Replication replication) {
    int k = architecture.numClasses();
    int replicas = replication.replicas();
    Ops tf = Ops.create(scratch);
    Shape batch = InferenceModel.batchShape(architecture.inputShape());
    Placeholder<TFloat32> x = tf.withName("inputs").placeholder(TFloat32.class, Placeholder.shape(batch));
    Placeholder<TInt32> labels = tf.withName("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    Placeholder<TFloat32> epoch = tf.withName("epoch").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    Placeholder<TFloat32> lr = tf.withName("learning_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    Placeholder<TFloat32> teacher =
        (objective.needsTeacher() && onlineTeacher == null) || objective.usesOwnPredictions()
            ? tf.withName("teacher_logits").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, (long) k * objective.teachers())))
            : null;

    // Shares of the fed batch of m rows: ceil(m / R) rows each, the last ones shorter or empty.
    Operand<TInt32> m = tf.reshape(tf.slice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {1})), tf.constant(new int[0]));
    Operand<TInt32> per = tf.math.floorDiv(tf.math.add(m, tf.constant(replicas - 1)), tf.constant(replicas));
    Operand<TFloat32> mf = tf.dtypes.cast(m, TFloat32.class);

    TrainingVariables vars = new TrainingVariables(config.seed(), setup.initialValues());
    List<Operand<TFloat32>> logits = new ArrayList<>();
    List<Objective.LossTerms> terms = new ArrayList<>();
    List<List<Output<TFloat32>>> grads = new ArrayList<>();
    List<Operand<TFloat32>> weights = new ArrayList<>();
    List<Operand<org.tensorflow.types.TBool>> nonEmpty = new ArrayList<>();
    List<Op> updates = new ArrayList<>();
    List<Variable<TFloat32>> trainable = null;
    for (int r = 0; r < replicas; r++) {
      Operand<TInt32> lo = tf.math.minimum(tf.math.mul(per, tf.constant(r)), m);
      Operand<TInt32> hi = tf.math.minimum(tf.math.mul(per, tf.constant(r + 1)), m);
      Operand<TInt32> rows = tf.math.sub(hi, lo);
      weights.add(tf.math.div(tf.dtypes.cast(rows, TFloat32.class), mf));
      nonEmpty.add(tf.math.greater(rows, tf.constant(0)));
      // Slices of a computed size have no static shape; the model (a flatten before a dense layer) needs the
      // example's dimensions, which are the fed batch's. No gradient flows into the inputs.
      Operand<TFloat32> xr = tf.ensureShape(rows(tf, x, batch.numDimensions(), lo, rows), batch);
      Operand<TInt32> lr_ = tf.ensureShape(rows(tf, labels, 1, lo, rows), Shape.of(-1));
      Operand<TFloat32> tr_ = teacher == null ? null : tf.ensureShape(rows(tf, teacher, 2, lo, rows), Shape.of(-1, (long) k * objective.teachers()));

      Ops scope = tf.withSubScope("replica_" + r);
      // Replica 0 is built at the top level, so its variables get exactly the names they have on one device.
      Ops on = (r == 0 ? tf : scope).withDevice(deviceSpec(replication.replicaDevices().get(r)));
      Variables v = r == 0 ? vars : vars.shared();
      Forward forward = architecture.build(on, xr, v, Architecture.Mode.TRAINING);
      if (r == 0) {
        vars.checkAllInitialValuesUsed();
        trainable = vars.trainable();
        updates.addAll(forward.updates());
      }
      Operand<TFloat32> oneHot = on.oneHot(lr_, on.constant(k), on.constant(1f), on.constant(0f));
      Objective.LossTerms t =
          objective.build(
              on,
              forward.logits(),
              onlineTeacher != null ? onlineTeacher.logits(on, xr) : tr_,
              new LossContext(lr_, oneHot, epoch));
      terms.add(t);
      logits.add(forward.logits());
      grads.add(TrainingGraph.gradients(scope, t.total(), trainable));
    }
    Objective.LossTerms total =
        new Objective.LossTerms(
            tf.withName("loss_total").identity(weighted(tf, terms.stream().map(Objective.LossTerms::total).toList(), weights, nonEmpty)),
            tf.withName("loss_hard").identity(weighted(tf, terms.stream().map(Objective.LossTerms::hard).toList(), weights, nonEmpty)),
            tf.withName("loss_soft").identity(weighted(tf, terms.stream().map(Objective.LossTerms::soft).toList(), weights, nonEmpty)));
    List<Output<TFloat32>> averaged = new ArrayList<>();
    for (int i = 0; i < trainable.size(); i++) {
      Ops avg = tf.withSubScope("average_" + i);
      List<Operand<TFloat32>> gi = new ArrayList<>();
      for (List<Output<TFloat32>> g : grads) {
        gi.add(g.get(i));
      }
      averaged.add(avg.identity(weighted(avg, gi, weights, nonEmpty)).asOutput());
    }
    Op apply = Optimizers.apply(tf, config.optimizer(), trainable, averaged, lr);
    List<Op> stepOps = new ArrayList<>(updates);
    stepOps.add(apply);
    Op step = tf.withControlDependencies(stepOps).withName("step").noOp();
    Operand<TFloat32> allLogits = tf.withName("logits").concat(logits, tf.constant(0));
    Operand<TFloat32> evalLogits =
        tf.withName("eval_logits")
            .identity(architecture.build(tf.withSubScope("eval"), x, vars.shared(), Architecture.Mode.INFERENCE).logits());
    long parameters = trainable.stream().mapToLong(t -> t.shape().size()).sum();
    return new Names(
        x.op().name(), labels.op().name(), epoch.op().name(), lr.op().name(),
        teacher == null ? null : teacher.op().name(),
        total.total().op().name(), total.hard().op().name(), total.soft().op().name(),
        allLogits.op().name(), evalLogits.op().name(), step.op().name(),
        trainable.stream().map(t -> t.op().name()).toList(), parameters);
  }

  /** A device name such as {@code /job:worker/replica:0/task:1} or {@code /device:CPU:2} as a DeviceSpec. */
  static DeviceSpec deviceSpec(String name) {
    DeviceSpec.Builder b = DeviceSpec.newBuilder();
    for (String part : name.split("/")) {
      String[] kv = part.split(":");
      switch (kv[0]) {
        case "" -> {}
        case "job" -> b.job(kv[1]);
        case "replica" -> b.replica(Integer.parseInt(kv[1]));
        case "task" -> b.task(Integer.parseInt(kv[1]));
        case "device" -> b.deviceType(DeviceSpec.DeviceType.valueOf(kv[1])).deviceIndex(Integer.parseInt(kv[2]));
        default -> throw new IllegalArgumentException("bad device name " + name);
      }
    }
    return b.build();
  }

  /** Rows {@code [lo, lo + n)} of {@code t}, a tensor of rank {@code rank}. */
  private static <T extends TType> Operand<T> rows(Ops tf, Operand<T> t, int rank, Operand<TInt32> lo, Operand<TInt32> n) {
    int[] zeros = new int[rank - 1];
    int[] all = new int[rank - 1];
    java.util.Arrays.fill(all, -1);
    Operand<TInt32> begin = tf.concat(List.of(tf.reshape(lo, tf.constant(new int[] {1})), tf.constant(zeros)), tf.constant(0));
    Operand<TInt32> size = tf.concat(List.of(tf.reshape(n, tf.constant(new int[] {1})), tf.constant(all)), tf.constant(0));
    return tf.slice(t, begin, size);
  }

  /** {@code sum_r w_r * v_r} over the replicas with a non-empty share (an empty share's mean is NaN). */
  private static Operand<TFloat32> weighted(
      Ops tf, List<? extends Operand<TFloat32>> values, List<Operand<TFloat32>> weights, List<Operand<org.tensorflow.types.TBool>> nonEmpty) {
    Operand<TFloat32> sum = null;
    for (int r = 0; r < values.size(); r++) {
      Operand<TFloat32> v = values.get(r);
      Operand<TFloat32> term = tf.select(nonEmpty.get(r), tf.math.mul(weights.get(r), v), tf.zerosLike(v));
      sum = sum == null ? term : tf.math.add(sum, term);
    }
    return sum;
  }

  /**
   * Sets devices in {@code def}: model variables (those the replicas' build placed) on the variable devices,
   * largest first onto the least loaded; ops that write a variable through its reference (initial assignment,
   * optimizer update, moving-average update) beside it; ops without a device in {@code replica_R/} on replica
   * {@code R}'s device; the averaging of variable {@code I}'s gradient ({@code average_I/}, and the read of it the
   * optimizer waits for) beside variable {@code I}. Optimizer slots have no device and follow their update op.
   */
  static GraphDef place(GraphDef def, Replication replication, List<String> trainable) {
    GraphDef.Builder b = def.toBuilder();
    List<String> devices = replication.variableDevices();
    long[] load = new long[devices.size()];
    Map<String, String> variableDevice = new HashMap<>();
    List<NodeDef.Builder> variables = new ArrayList<>();
    for (NodeDef.Builder n : b.getNodeBuilderList()) {
      if (n.getOp().equals("VariableV2") && !n.getDevice().isEmpty()) {
        variables.add(n);
      }
    }
    variables.sort((p, q) -> Long.compare(bytes(q), bytes(p)));
    for (NodeDef.Builder n : variables) {
      int best = 0;
      for (int d = 1; d < load.length; d++) {
        if (load[d] < load[best]) {
          best = d;
        }
      }
      load[best] += bytes(n);
      n.setDevice(devices.get(best));
      variableDevice.put(n.getName(), devices.get(best));
    }
    Map<String, String> averageOf = new HashMap<>();
    for (NodeDef.Builder n : b.getNodeBuilderList()) {
      Matcher avg = AVERAGE.matcher(n.getName());
      if (avg.find()) {
        String d = variableDevice.get(trainable.get(Integer.parseInt(avg.group(1))));
        n.setDevice(d);
        averageOf.put(n.getName(), d);
      }
    }
    for (NodeDef.Builder n : b.getNodeBuilderList()) {
      String op = n.getOp();
      String first = n.getInputCount() == 0 ? "" : node(n.getInput(0));
      if ((op.startsWith("Assign") || op.startsWith("Apply") || op.startsWith("Scatter")) && variableDevice.containsKey(first)) {
        n.setDevice(variableDevice.get(first));
        continue;
      }
      if (!n.getDevice().isEmpty()) {
        continue;
      }
      Matcher rep = REPLICA.matcher(n.getName());
      if (rep.find()) {
        n.setDevice(replication.replicaDevices().get(Integer.parseInt(rep.group(1))));
      } else if (op.equals("Identity") && averageOf.containsKey(first)) {
        n.setDevice(averageOf.get(first));
      }
    }
    return b.build();
  }

  private static String node(String input) {
    String s = input.startsWith("^") ? input.substring(1) : input;
    int colon = s.indexOf(':');
    return colon < 0 ? s : s.substring(0, colon);
  }

  private static long bytes(NodeDef.Builder variable) {
    AttrValue shape = variable.getAttrMap().get("shape");
    long n = 4;
    if (shape != null) {
      for (TensorShapeProto.Dim d : shape.getShape().getDimList()) {
        n *= Math.max(1, d.getSize());
      }
    }
    return n;
  }
}
