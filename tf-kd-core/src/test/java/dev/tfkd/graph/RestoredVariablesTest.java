package dev.tfkd.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;

class RestoredVariablesTest {
  @Test
  void namesAreInCreationOrderAndUnmodifiable() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      RestoredVariables v = new RestoredVariables();
      // Not alphabetical, and more than a small Set.of keeps in insertion order by chance.
      List<String> order = List.of("z9", "dense_w", "a1", "m", "conv_b", "b0", "y", "k3", "c", "w7");
      for (String name : order) {
        v.state(tf, name, Shape.of(2), Init.ZEROS);
      }
      assertEquals(order, List.copyOf(v.names()));
      assertThrows(UnsupportedOperationException.class, () -> v.names().add("x"));
    }
  }
}
