package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A divergence between temperature-softened distributions. Its own {@link #temperature()} is the constant used by
 * default; a per-example temperature policy ({@link Cswt}) calls {@link #perExample(Ops, Operand, Operand,
 * GraphTemperature, LossContext)} with one temperature per example instead. Any {@code T^2} factor the divergence
 * documents uses the same (per-example) temperature.
 */
public interface Tempered extends Divergence {

  /**
   * The constant temperature T used when no per-example policy is applied.
   *
   * @return T
   */
  float temperature();

  /**
   * The per-example divergence at the given (constant or per-example) temperature.
   *
   * @param tf where to add the ops
   * @param studentLogits {@code [batch, K]} student logits
   * @param teacherLogits {@code [batch, K]} teacher logits
   * @param temperature the temperature to use instead of {@link #temperature()}
   * @param context labels, one-hot labels and the epoch, for the divergences that read them (e.g. DKD's warm-up)
   * @return {@code [batch]} values, owned by the caller's graph
   */
  Operand<TFloat32> perExample(
      Ops tf,
      Operand<TFloat32> studentLogits,
      Operand<TFloat32> teacherLogits,
      GraphTemperature temperature,
      LossContext context);

  @Override
  default Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, LossContext context) {
    return perExample(tf, studentLogits, teacherLogits, GraphTemperature.constant(tf, temperature()), context);
  }
}
