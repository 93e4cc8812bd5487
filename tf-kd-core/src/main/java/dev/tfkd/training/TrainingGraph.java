package dev.tfkd.training;

import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.TrainingVariables;
import dev.tfkd.losses.LossContext;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * One training graph, assembled once per run: the placeholders a step feeds ({@code inputs}, {@code labels},
 * {@code epoch}, {@code learning_rate} and, for precomputed teacher logits or self-distillation, {@code
 * teacher_logits}; {@code example_index} and {@code global_step} when a feature loss keeps per-example state), the
 * architecture in training mode, the objective's named loss terms, gradients for the model's
 * own trainable variables only, the optimizer's update and the {@code step} target; and the same architecture in
 * inference mode on the same variables ({@code eval/...}) for validation. An online teacher's forward pass reads
 * {@code inputs} itself. Lives as long as the graph it was built in.
 *
 * @param x the input batch
 * @param labels int32 labels of the batch
 * @param epoch the epoch, as a float scalar (objectives that change with the epoch read it)
 * @param learningRate the step's learning rate
 * @param teacher teacher logits fed per batch, or {@code null} when none are fed
 * @param terms named reads of the total, hard and soft loss
 * @param logits the training-mode logits
 * @param evalLogits inference-mode logits on the same variables
 * @param step the target that runs the update (and the architecture's state updates)
 * @param parameters trainable parameters of the model (without the adapters of feature losses)
 * @param teacherFeatures placeholders of the teacher's feature points fed per batch ({@code teacher_features/NAME},
 *     {@code [batch, shape...]}), by name; empty unless a {@link BatchFeatures} teacher serves them
 * @param exampleIndex the batch's example indices, fed with every step, or {@code null} when no loss reads them
 * @param globalStep the number of steps taken before this one, fed with every step, or {@code null} when no loss
 *     reads it
 */
record TrainingGraph(
    Placeholder<TFloat32> x,
    Placeholder<TInt32> labels,
    Placeholder<TFloat32> epoch,
    Placeholder<TFloat32> learningRate,
    Placeholder<TFloat32> teacher,
    Objective.LossTerms terms,
    Operand<TFloat32> logits,
    Operand<TFloat32> evalLogits,
    Op step,
    long parameters,
    java.util.Map<String, Placeholder<TFloat32>> teacherFeatures,
    Placeholder<TInt32> exampleIndex,
    Placeholder<TInt64> globalStep) {

  /** Copies the feature placeholders. */
  TrainingGraph {
    teacherFeatures = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(teacherFeatures));
  }

  /**
   * Builds the training graph of {@code architecture} with {@code objective} in {@code graph}.
   *
   * @param onlineTeacher a frozen teacher built into the graph, or {@code null}: then an objective that needs a
   *     teacher reads fed logits
   */
  static TrainingGraph build(
      Graph graph,
      Architecture architecture,
      Objective objective,
      FrozenTeacher onlineTeacher,
      TrainConfig config,
      TrainingSetup setup) {
    return build(
        graph, architecture, objective, onlineTeacher == null ? List.of() : List.of(onlineTeacher), config, setup,
        java.util.Map.of(), 0);
  }

  /**
   * As {@link #build(Graph, Architecture, Objective, FrozenTeacher, TrainConfig, TrainingSetup)}, with the teacher's
   * feature points fed per batch through placeholders of {@code fedFeatures}' shapes (per example), in place of an
   * in-graph teacher's, and without example indices.
   */
  static TrainingGraph build(
      Graph graph,
      Architecture architecture,
      Objective objective,
      FrozenTeacher onlineTeacher,
      TrainConfig config,
      TrainingSetup setup,
      java.util.Map<String, long[]> fedFeatures) {
    return build(
        graph, architecture, objective, onlineTeacher == null ? List.of() : List.of(onlineTeacher), config, setup,
        fedFeatures, 0);
  }

  /**
   * Builds the training graph with {@code onlineTeachers} built into it: one per teacher the objective reads ({@link
   * Objective#teachers()}), whose logits reach it side by side ({@code [batch, M * K]}) and whose feature points
   * reach it in {@link FeatureInputs#teachers()}, in order; or none, and an objective that needs a teacher reads fed
   * logits (and, with {@code fedFeatures}, the one teacher's feature points fed per batch through placeholders of
   * those shapes per example). Teacher 1's ops are scoped {@value FrozenTeacher#SCOPE}, teacher m's {@code
   * teacherM/}{@value FrozenTeacher#SCOPE}.
   *
   * @param examples the number of training examples when the trainer can feed each batch's example indices (data
   *     in memory), 0 when it cannot (streamed data)
   */
  static TrainingGraph build(
      Graph graph,
      Architecture architecture,
      Objective objective,
      List<FrozenTeacher> onlineTeachers,
      TrainConfig config,
      TrainingSetup setup,
      java.util.Map<String, long[]> fedFeatures,
      long examples) {
    boolean online = !onlineTeachers.isEmpty();
    int k = architecture.numClasses();
    Ops tf = Ops.create(graph);
    Placeholder<TFloat32> x =
        tf.withName("inputs").placeholder(TFloat32.class, Placeholder.shape(InferenceModel.batchShape(architecture.inputShape())));
    Placeholder<TInt32> labels = tf.withName("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    Placeholder<TFloat32> epoch = tf.withName("epoch").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    Placeholder<TFloat32> lr = tf.withName("learning_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    Placeholder<TFloat32> teacher =
        (objective.needsTeacher() && !online) || objective.usesOwnPredictions()
            ? tf.withName("teacher_logits").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, (long) k * objective.teachers())))
            : null;
    if (online && objective.teachers() != onlineTeachers.size()) {
      throw new IllegalArgumentException(
          onlineTeachers.size() + " in-graph online teacher(s) given; " + objective.describe() + " reads "
              + objective.teachers());
    }

    TrainingVariables vars = new TrainingVariables(config.seed(), setup.initialValues());
    Forward forward = architecture.build(tf, x, vars, Architecture.Mode.TRAINING);
    vars.checkAllInitialValuesUsed();
    // The model's own parameters; adapters a feature loss adds below train with it but are not part of the model.
    long parameters = vars.trainable().stream().mapToLong(v -> v.shape().size()).sum();
    Operand<TFloat32> oneHot = tf.oneHot(labels, tf.constant(k), tf.constant(1f), tf.constant(0f));
    if (objective.needsFeatures() && objective.needsTeacher() && !online && fedFeatures.isEmpty()) {
      throw new IllegalArgumentException(
          objective.describe() + " reads the teacher's feature points: the teacher must run in the student's graph"
              + " or serve its points with its logits");
    }
    if (online && !fedFeatures.isEmpty()) {
      throw new IllegalArgumentException("a teacher built into the graph and fed feature points: give one or the other");
    }
    List<FeatureInputs.TeacherPoints> teacherPoints = new ArrayList<>();
    List<Operand<TFloat32>> teacherLogits = new ArrayList<>();
    for (int m = 0; m < onlineTeachers.size(); m++) {
      // Teacher 1 keeps the scope one teacher always had; the others get their own, so names never collide.
      Forward f = onlineTeachers.get(m).forward(m == 0 ? tf : tf.withSubScope("teacher" + (m + 1)), x);
      teacherPoints.add(new FeatureInputs.TeacherPoints(f.features(), f.batchNorms()));
      teacherLogits.add(f.logits());
    }
    Operand<TFloat32> readLogits =
        !online ? teacher
            : teacherLogits.size() == 1 ? teacherLogits.get(0)
            : tf.concat(teacherLogits, tf.constant(1));
    java.util.Map<String, Placeholder<TFloat32>> fed = new java.util.LinkedHashMap<>();
    java.util.Map<String, Operand<TFloat32>> fedPoints = new java.util.LinkedHashMap<>();
    Ops featureScope = tf.withSubScope("teacher_features");
    for (java.util.Map.Entry<String, long[]> e : fedFeatures.entrySet()) {
      long[] dims = new long[e.getValue().length + 1];
      dims[0] = -1;
      System.arraycopy(e.getValue(), 0, dims, 1, e.getValue().length);
      Placeholder<TFloat32> p =
          featureScope.withName(e.getKey()).placeholder(TFloat32.class, Placeholder.shape(Shape.of(dims)));
      fed.put(e.getKey(), p);
      // Fed values carry no gradient anyway; the barrier says so to the feature losses as the in-graph teacher does.
      fedPoints.put(e.getKey(), tf.stopGradient(p));
    }
    if (!fedPoints.isEmpty()) {
      teacherPoints.add(new FeatureInputs.TeacherPoints(fedPoints, java.util.Map.of()));
    }
    FeatureInputs.Examples exampleInputs = examples > 0 ? new FeatureInputs.Examples(examples, config.seed()) : null;
    Objective.LossTerms built =
        objective.build(
            tf,
            forward.logits(),
            readLogits,
            new LossContext(labels, oneHot, epoch),
            new FeatureInputs(forward.features(), teacherPoints, vars, epoch, exampleInputs));
    // Named reads, so the three can be fetched together even when an objective returns one operand twice.
    Objective.LossTerms terms =
        new Objective.LossTerms(
            tf.withName("loss_total").identity(built.total()),
            tf.withName("loss_hard").identity(built.hard()),
            tf.withName("loss_soft").identity(built.soft()));

    List<Variable<TFloat32>> trainable = vars.trainable();
    List<Output<TFloat32>> grads = gradients(tf, terms.total(), trainable);
    Op apply = Optimizers.apply(tf, config.optimizer(), trainable, grads, lr);
    List<Op> stepOps = new ArrayList<>(forward.updates());
    stepOps.add(apply);
    Op step = tf.withControlDependencies(stepOps).withName("step").noOp();

    // The same architecture in inference mode on the same variables scores validation data between epochs.
    Operand<TFloat32> evalLogits =
        architecture.build(tf.withSubScope("eval"), x, vars.shared(), Architecture.Mode.INFERENCE).logits();
    return new TrainingGraph(
        x, labels, epoch, lr, teacher, terms, forward.logits(), evalLogits, step, parameters, fed,
        exampleInputs == null ? null : exampleInputs.indexInput(), exampleInputs == null ? null : exampleInputs.stepInput());
  }

  /** Gradients of {@code loss} for exactly {@code vars}; a variable the loss does not reach is an error. */
  static List<Output<TFloat32>> gradients(Ops tf, Operand<TFloat32> loss, List<Variable<TFloat32>> vars) {
    Gradients g = tf.gradients(loss, vars);
    List<Output<TFloat32>> out = new ArrayList<>(vars.size());
    for (int i = 0; i < vars.size(); i++) {
      Output<TFloat32> dy = g.<TFloat32>dy(i);
      if (dy == null || dy.isClosed()) {
        throw new IllegalStateException("the loss does not depend on variable " + vars.get(i).op().name());
      }
      out.add(dy);
    }
    return out;
  }
}
