package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Graph inputs that some losses need besides logits.
 *
 * @param labels int32 {@code [batch]} true classes
 * @param oneHot float32 {@code [batch, K]} one-hot of {@code labels}
 * @param epoch float32 scalar: the current epoch, counted from 0, fed every step (for warm-up schedules)
 */
public record LossContext(Operand<TInt32> labels, Operand<TFloat32> oneHot, Operand<TFloat32> epoch) {}
