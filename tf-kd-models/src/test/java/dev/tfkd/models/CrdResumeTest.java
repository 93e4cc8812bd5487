package dev.tfkd.models;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.Shapes;
import dev.tfkd.features.LossSpec;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.StopAfterEpochs;
import dev.tfkd.training.FrozenTeacher;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener;
import dev.tfkd.training.checkpoint.Checkpoints;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * CRD through the Java API with an in-graph ResNet teacher: a run interrupted after one epoch and resumed ends
 * bit-identical to the uninterrupted run, memory banks and normalising constants included (read back from both final
 * checkpoints), and every bank row the run visited holds a unit vector (the momentum update renormalises).
 */
class CrdResumeTest {
  @TempDir Path work;

  private static final int DIM = 16;
  private final Dataset train = new Shapes(8, 8, 1, 4).sample(96, 1, "train");
  private final Architecture student = Models.create("resnet8", new long[] {8, 8, 1}, 4);
  private final FrozenTeacher teacher = FrozenTeacher.initial(Models.create("resnet14", new long[] {8, 8, 1}, 4), 5);
  // Term 2: the adapters' names start with adapter2_crd_.
  private final LossSpec loss = LossSpec.parse("ce:1, kl(T=4):0.9, crd(dim=" + DIM + ", negatives=64)");

  private record Run(List<TrainingListener.EpochMetrics> history, float[] logits, Map<String, float[]> state) {}

  private Run run(Path dir, boolean resume, List<TrainingListener> listeners) {
    TrainConfig cfg = new TrainConfig(2, 32, OptimizerConfig.adam(1e-3f), 3, 1);
    TrainedModel m =
        new Trainer(cfg, listeners)
            .trainOnline(student, train, loss, teacher, new Trainer.RunOptions(null, new Checkpoints(dir), true, resume));
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      return new Run(m.history(), im.logits(train), bankState(m.checkpointPrefix()));
    }
  }

  /** The banks and constants a checkpoint holds, restored into a graph of just those variables. */
  private Map<String, float[]> bankState(Path prefix) {
    Map<String, Shape> shapes = new LinkedHashMap<>();
    for (String side : List.of("student", "teacher")) {
      shapes.put("adapter2_crd_" + side + "_memory", Shape.of(train.size(), DIM));
      shapes.put("adapter2_crd_" + side + "_z", Shape.scalar());
    }
    Map<String, float[]> out = new LinkedHashMap<>();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Map<String, Variable<TFloat32>> vars = new LinkedHashMap<>();
      shapes.forEach((name, shape) -> vars.put(name, tf.withName(name).variable(shape, TFloat32.class)));
      try (Session s = new Session(g)) {
        s.restore(prefix.toString());
        for (var e : vars.entrySet()) {
          try (Result r = s.runner().fetch(e.getValue()).run()) {
            TFloat32 t = (TFloat32) r.get(0);
            float[] f = new float[(int) t.shape().size()];
            t.asRawTensor().data().asFloats().read(f);
            out.put(e.getKey(), f);
          }
        }
      }
    }
    return out;
  }

  private static String figures(List<TrainingListener.EpochMetrics> h) {
    StringBuilder b = new StringBuilder();
    for (TrainingListener.EpochMetrics e : h) {
      b.append(List.of(e.epoch(), e.total(), e.hard(), e.soft(), e.accuracy(), e.globalStep())).append('\n');
    }
    return b.toString();
  }

  @Test
  void resumedCrdIsBitIdenticalBanksIncluded() {
    Run whole = run(work.resolve("whole"), false, List.of());
    Path dir = work.resolve("parts");
    Run first = run(dir, false, List.of(new StopAfterEpochs(1)));
    assertEquals(1, first.history().size());
    Run resumed = run(dir, true, List.of());
    assertEquals(figures(whole.history()), figures(resumed.history()));
    assertAllClose(resumed.logits(), whole.logits(), Assertions.EXACT);
    for (String name : whole.state().keySet()) {
      assertArrayEquals(whole.state().get(name), resumed.state().get(name), name);
    }
    // The banks moved between the checkpoints: the resumed run continued from epoch 1's banks, not from scratch.
    float[] afterOne = first.state().get("adapter2_crd_student_memory");
    float[] afterTwo = whole.state().get("adapter2_crd_student_memory");
    assertTrue(!java.util.Arrays.equals(afterOne, afterTwo), "the banks did not change in epoch 2");
    float z = whole.state().get("adapter2_crd_student_z")[0];
    assertTrue(z > 0 && z == first.state().get("adapter2_crd_student_z")[0], "Z is set once, at the first step: " + z);
    for (int row = 0; row < train.size(); row++) {
      double sq = 0;
      for (int d = 0; d < DIM; d++) {
        sq += afterTwo[row * DIM + d] * afterTwo[row * DIM + d];
      }
      assertAllClose(Math.sqrt(sq), 1, 0, 1e-5, "row " + row);
    }
  }
}
