package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.losses.Kl;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.checkpoint.Checkpoints;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** In-graph replication over several CPU devices of one process: the same training as one device. */
class ReplicationTest {
  @TempDir Path work;

  private final GaussianMixture mixture = new GaussianMixture(4, 6, 1.5, 42);
  // 601 examples in batches of 50: the last batch holds one example, so two of three replicas get empty shares.
  private final Dataset train = mixture.sample(601, 1, "train");
  private final Dataset validation = mixture.sample(200, 2, "validation");
  private final TinyMlp arch = new TinyMlp(6, 16, 4);

  static TrainConfig config() {
    return new TrainConfig(3, 50, OptimizerConfig.adam(0.01f), 7, 1);
  }

  /** Final validation logits and the epochs' figures of a run. */
  record Run(float[] logits, List<TrainingListener.EpochMetrics> history) {
    double[] losses() {
      return history.stream().flatMapToDouble(e -> java.util.stream.DoubleStream.of(e.total(), e.accuracy())).toArray();
    }
  }

  static Run run(
      Replication replication, Objective objective, float[] teacher, Dataset train, Dataset validation, TinyMlp arch,
      Path dir, boolean resume, List<TrainingListener> listeners) {
    TrainedModel m =
        new Trainer(config(), listeners)
            .replicated(replication)
            .train(arch, train, objective, teacher, new Trainer.RunOptions(validation, new Checkpoints(dir), true, resume));
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      return new Run(im.logits(validation), m.history());
    }
  }

  private Run run(Replication replication, Objective objective, float[] teacher, String dir) {
    return run(replication, objective, teacher, train, validation, arch, work.resolve(dir), false, List.of());
  }

  @Test
  void threeDevicesTrainAsOne() {
    Run one = run(Replication.NONE, new CrossEntropy(), null, "one");
    Run three = run(Replication.devices(3), new CrossEntropy(), null, "three");
    assertAllClose(three.logits(), one.logits(), Assertions.FLOAT32_LOOSE);
    assertAllClose(three.losses(), one.losses(), Assertions.FLOAT32_LOOSE);
    assertEquals(one.history().get(2).globalStep(), three.history().get(2).globalStep());
  }

  @Test
  void distillationWithFedTeacherLogitsTrainsAsOne() {
    float[] teacher = new float[train.size() * 4];
    java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
    for (int i = 0; i < teacher.length; i++) {
      teacher[i] = (float) rng.nextGaussian() * 2;
    }
    Objective kd = new Distillation(0.3f, 0.7f, new Kl(4f));
    Run one = run(Replication.NONE, kd, teacher, "one");
    Run two = run(Replication.devices(2), kd, teacher, "two");
    assertAllClose(two.logits(), one.logits(), Assertions.FLOAT32_LOOSE);
    assertAllClose(two.losses(), one.losses(), Assertions.FLOAT32_LOOSE);
  }

  @Test
  void gradientsRunOnTheirReplicaAndVariablesOnTheVariableDevice() {
    Replication r = new Replication(List.of("/device:CPU:1", "/device:CPU:2"), List.of("/device:CPU:0", "/device:CPU:3"), 4, null);
    try (org.tensorflow.Graph g = new org.tensorflow.Graph()) {
      ReplicatedGraph.build(g, arch, new CrossEntropy(), null, config(), TrainingSetup.NONE, r);
      GraphDef def = g.toGraphDef();
      long onReplica1 = 0;
      java.util.Map<String, String> variableDevices = new java.util.HashMap<>();
      for (NodeDef n : def.getNodeList()) {
        if (n.getName().startsWith("replica_1/Gradients")) {
          assertEquals("/device:CPU:2", n.getDevice(), n.getName());
          onReplica1++;
        }
        if (n.getOp().equals("VariableV2") && List.of("w1", "b1", "w2", "b2").contains(n.getName())) {
          variableDevices.put(n.getName(), n.getDevice());
        }
      }
      assertTrue(onReplica1 > 0);
      // The two largest variables (w1: 96 values, w2: 64) go to different devices.
      assertEquals(4, variableDevices.size(), variableDevices.toString());
      assertTrue(!variableDevices.get("w1").equals(variableDevices.get("w2")), variableDevices.toString());
    }
  }

  /** An image model that flattens with the static example shape, as the zoo's CNNs do. */
  record StaticFlatten() implements dev.tfkd.graph.Architecture {
    @Override
    public String name() {
      return "static-flatten";
    }

    @Override
    public long[] inputShape() {
      return new long[] {8, 8, 1};
    }

    @Override
    public int numClasses() {
      return 4;
    }

    @Override
    public dev.tfkd.graph.Forward build(
        org.tensorflow.op.Ops tf, org.tensorflow.Operand<org.tensorflow.types.TFloat32> x, dev.tfkd.graph.Variables vars, Mode mode) {
      org.tensorflow.ndarray.Shape s = x.shape();
      if (s.numDimensions() != 4 || s.isUnknown() || s.get(1) < 0 || s.get(2) < 0 || s.get(3) < 0) {
        throw new IllegalArgumentException("dimensions of " + s + " are not known when the graph is built");
      }
      long flat = s.get(1) * s.get(2) * s.get(3);
      return new TinyMlp((int) flat, 8, 4).build(tf, tf.reshape(x, tf.constant(new long[] {-1, flat})), vars, mode);
    }
  }

  @Test
  void imageModelsSeeTheExampleShapeOnEveryReplica() {
    Dataset images = new dev.tfkd.data.Shapes(8, 8, 1, 4).sample(101, 1, "shapes-8");
    Dataset imagesVal = new dev.tfkd.data.Shapes(8, 8, 1, 4).sample(40, 2, "shapes-8-val");
    TrainedModel one =
        new Trainer(config(), List.of())
            .train(new StaticFlatten(), images, new CrossEntropy(), null, new Trainer.RunOptions(null, new Checkpoints(work.resolve("i1")), true, false));
    TrainedModel two =
        new Trainer(config(), List.of())
            .replicated(Replication.devices(2))
            .train(new StaticFlatten(), images, new CrossEntropy(), null, new Trainer.RunOptions(null, new Checkpoints(work.resolve("i2")), true, false));
    try (InferenceModel a = one.load(Trainer.sessionConfig(1));
        InferenceModel b = two.load(Trainer.sessionConfig(1))) {
      assertAllClose(b.logits(imagesVal), a.logits(imagesVal), Assertions.FLOAT32_LOOSE);
    }
  }

  @Test
  void devicesOutsideTheirRangeAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> Replication.devices(0));
    assertThrows(IllegalArgumentException.class, () -> Replication.devices(65));
    assertEquals(Replication.NONE, Replication.devices(1));
  }
}
