package dev.tfkd.training;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Builds the update ops for an explicit list of variables with TensorFlow's fused {@code ApplyAdam} and
 * {@code ApplyMomentum} kernels. Unlike the framework optimizers' {@code minimize}, it touches only the variables
 * it is given (never a teacher's or another optimizer's), and it takes the learning rate as an operand so a
 * schedule can feed it each step.
 */
final class Optimizers {
  private Optimizers() {}

  static Op apply(
      Ops tf,
      OptimizerConfig config,
      List<Variable<TFloat32>> vars,
      List<Output<TFloat32>> grads,
      Operand<TFloat32> learningRate) {
    // Weights are VariableV2 refs, and backprop reads them: an update that ran while another layer's gradient
    // still read the same buffer would race. Every update waits for every gradient.
    List<Op> gradOps = new ArrayList<>();
    grads.forEach(g -> gradOps.add(tf.identity(g)));
    Ops ordered = tf.withControlDependencies(gradOps);
    List<Op> updates = new ArrayList<>();
    Operand<TFloat32> decay = tf.constant(config.weightDecay());
    switch (config.kind()) {
      case ADAM -> {
        Operand<TFloat32> beta1 = tf.constant(0.9f);
        Operand<TFloat32> beta2 = tf.constant(0.999f);
        Operand<TFloat32> eps = tf.constant(1e-8f);
        Variable<TFloat32> beta1Power = tf.withName("adam_beta1_power").variable(tf.constant(0.9f));
        Variable<TFloat32> beta2Power = tf.withName("adam_beta2_power").variable(tf.constant(0.999f));
        for (int i = 0; i < vars.size(); i++) {
          Variable<TFloat32> v = vars.get(i);
          String base = baseName(v);
          Variable<TFloat32> m = tf.withName(base + "_adam_m").variable(tf.zerosLike(v));
          Variable<TFloat32> s = tf.withName(base + "_adam_v").variable(tf.zerosLike(v));
          Operand<TFloat32> g = decayed(tf, grads.get(i), v, decay, config.weightDecay());
          updates.add(
              ordered.train.applyAdam(v, m, s, beta1Power, beta2Power, learningRate, beta1, beta2, eps, g));
        }
        Ops after = tf.withControlDependencies(updates);
        Op p1 = after.assign(beta1Power, after.math.mul(beta1Power, beta1));
        Op p2 = after.assign(beta2Power, after.math.mul(beta2Power, beta2));
        return tf.withControlDependencies(List.of(p1, p2)).withName("train_step").noOp();
      }
      case SGD -> {
        Operand<TFloat32> momentum = tf.constant(config.momentum());
        for (int i = 0; i < vars.size(); i++) {
          Variable<TFloat32> v = vars.get(i);
          Operand<TFloat32> g = decayed(tf, grads.get(i), v, decay, config.weightDecay());
          if (config.momentum() == 0f) {
            updates.add(ordered.train.applyGradientDescent(v, learningRate, g));
          } else {
            Variable<TFloat32> acc = tf.withName(baseName(v) + "_momentum").variable(tf.zerosLike(v));
            updates.add(ordered.train.applyMomentum(v, acc, learningRate, g, momentum));
          }
        }
        return tf.withControlDependencies(updates).withName("train_step").noOp();
      }
      default -> throw new AssertionError(config.kind());
    }
  }

  private static Operand<TFloat32> decayed(
      Ops tf, Operand<TFloat32> grad, Variable<TFloat32> v, Operand<TFloat32> decay, float wd) {
    return wd == 0f ? grad : tf.math.add(grad, tf.math.mul(decay, tf.identity(v)));
  }

  private static String baseName(Variable<TFloat32> v) {
    String name = v.op().name();
    return name.substring(name.lastIndexOf('/') + 1);
  }
}
