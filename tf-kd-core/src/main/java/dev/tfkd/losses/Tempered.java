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

  /** The constant temperature T used when no per-example policy is applied. */
  float temperature();

  /** The per-example divergence at the given (constant or per-example) temperature: {@code [batch]}. */
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
