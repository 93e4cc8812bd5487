package dev.tfkd.features;

import dev.tfkd.training.FeatureInputs;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A feature-distillation loss between student and teacher feature points ({@link dev.tfkd.graph.FeaturePoint}), as
 * a stateless graph builder like {@link dev.tfkd.losses.Divergence}.
 *
 * <p>It returns one scalar for the batch, reduced as its paper does (several couple the examples of a batch:
 * similarity matrices, pairwise distances), without the term's weight: the weight belongs to the {@link LossSpec}
 * term (each method's registry entry gives the paper's default). A method that needs an adapter (a regressor from
 * the student's features to the teacher's) creates its variables in {@link FeatureInputs#adapters()} under the
 * given prefix: they train with the student, are saved in its checkpoints, and are never exported. The teacher's
 * points arrive behind gradient barriers. Implementations are immutable records and thread-safe.
 */
public interface FeatureLoss {

  /**
   * The registry name, e.g. {@code at}.
   *
   * @return the name
   */
  String name();

  /**
   * This loss as a spec with every parameter written out, e.g. {@code fitnet(stage=2)}: {@link
   * FeatureLosses#parse} turns it back into an equal loss.
   *
   * @return the full spec
   */
  String spec();

  /**
   * Adds the batch loss to the graph.
   *
   * @param tf where to add the ops
   * @param in the feature points of student and teacher, and the adapters' variable source
   * @param adapterPrefix a prefix unique to this term for the names of adapter variables (no {@code /})
   * @return a scalar
   * @throws IllegalArgumentException when a point the method reads is missing or the two networks' points do not
   *     fit together (naming both shapes)
   */
  Operand<TFloat32> loss(Ops tf, FeatureInputs in, String adapterPrefix);
}
