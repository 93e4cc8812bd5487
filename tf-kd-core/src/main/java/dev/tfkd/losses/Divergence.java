package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A distillation divergence between teacher and student logits, as a stateless graph builder.
 *
 * <p>It returns one value per example ({@code [batch]}); the caller reduces (tf-kd uses the mean over examples:
 * "batchmean"). Temperatures and any T^2 factor are part of the divergence's own documented parameters.
 * Implementations compute in log space (log-softmax), so logits of any magnitude give finite values. Most
 * divergences couple only an example's own rows; Sinkhorn couples the batch. Implementations are immutable records
 * and thread-safe; the ops they add belong to the caller's graph.
 */
public interface Divergence {

  /**
   * The registry name, e.g. {@code kl}.
   *
   * @return the name
   */
  String name();

  /**
   * This divergence as a spec with every parameter written out, e.g. {@code kl(T=4)} or {@code
   * cswt(Tmin=2, Tmax=6):kl(T=4)}: {@link Divergences#parse} turns it back into an equal divergence.
   *
   * @return the full spec
   */
  String spec();

  /**
   * Adds the per-example divergence to the graph.
   *
   * @param tf where to add the ops
   * @param studentLogits {@code [batch, K]}
   * @param teacherLogits {@code [batch, K]}, constant with respect to training
   * @param context the batch's labels and the training progress, for divergences that use them
   * @return {@code [batch]}
   */
  Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, LossContext context);
}
