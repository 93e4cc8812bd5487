package dev.tfkd.graph;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.types.TFloat32;

/**
 * What {@link Architecture#build} adds to a graph.
 *
 * @param logits {@code [batch, K]} unnormalised scores
 * @param updates ops that must run with every training step (moving-average updates); empty in inference mode
 */
public record Forward(Operand<TFloat32> logits, List<Op> updates) {
  /** Copies the update list. */
  public Forward {
    updates = List.copyOf(updates);
  }

  /** A forward pass with no update ops. */
  public static Forward of(Operand<TFloat32> logits) {
    return new Forward(logits, List.of());
  }
}
