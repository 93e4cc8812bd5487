package dev.tfkd.run;

import dev.tfkd.graph.Architecture;

/**
 * Makes an architecture from a model spec such as {@code mlp:16} (the model zoo's {@code Models::create} in
 * {@code tf-kd-models}): what turns a configuration's {@code model} field into a network.
 */
@FunctionalInterface
public interface ArchitectureFactory {
  /**
   * The architecture {@code spec} names for examples of {@code inputShape} and {@code numClasses} classes.
   *
   * @param spec the architecture spec, e.g. {@code mlp:256,256}
   * @param inputShape the shape of one example
   * @param numClasses K
   * @return the architecture (a graph builder: nothing is allocated yet)
   * @throws IllegalArgumentException for an unknown or malformed spec
   */
  Architecture create(String spec, long[] inputShape, int numClasses);
}
