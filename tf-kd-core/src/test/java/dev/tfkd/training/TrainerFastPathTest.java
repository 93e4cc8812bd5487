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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop's fast path (prefetch, online and cached teachers, session options) changes speed only. */
class TrainerFastPathTest {
  @TempDir Path work;

  private final GaussianMixture mixture = new GaussianMixture(4, 6, 1.5, 42);
  // 1000 is not a multiple of the batch: every epoch ends with a short batch.
  private final Dataset train = mixture.sample(1000, 1, "train");
  private final Dataset test = mixture.sample(200, 2, "test");
  private final TrainConfig oneThread = new TrainConfig(3, 64, OptimizerConfig.adam(1e-2f), 9, 1);

  /** Every epoch figure except its wall time, which differs between any two runs. */
  private static List<TrainingListener.EpochMetrics> withoutTimes(List<TrainingListener.EpochMetrics> history) {
    return history.stream()
        .map(e -> new TrainingListener.EpochMetrics(
            e.epoch(), e.total(), e.hard(), e.soft(), 0, e.accuracy(), e.learningRate(), e.globalStep(), e.validation()))
        .toList();
  }

  private float[] logitsOf(TrainedModel m) {
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      return im.logits(test);
    }
  }

  @Test
  void prefetchGivesBitIdenticalModels() {
    TinyMlp arch = new TinyMlp(6, 16, 4);
    TrainedModel inline = new Trainer(oneThread, List.of(), null, 0).train(arch, train, new CrossEntropy(), null, work);
    TrainedModel ahead = new Trainer(oneThread, List.of(), null, 3).train(arch, train, new CrossEntropy(), null, work);
    assertAllClose(logitsOf(ahead), logitsOf(inline), Assertions.EXACT);
    assertEquals(withoutTimes(inline.history()), withoutTimes(ahead.history()));
  }

  @Test
  void cachedAndOnlineTeacherTrainTheSameStudent() {
    FrozenTeacher teacher = teacher();
    Distillation kd = new Distillation(0.1f, 0.9f, new Kl(4f));
    TinyMlp student = new TinyMlp(6, 8, 4);
    float[] cached = TeacherLogitCache.inMemory().logits(teacher, train, 500, Trainer.sessionConfig(1));
    TrainedModel withCache = new Trainer(oneThread, List.of()).train(student, train, kd, cached, work);
    TrainedModel online = new Trainer(oneThread, List.of()).trainOnline(student, train, kd, teacher, work);
    assertAllClose(logitsOf(online), logitsOf(withCache), Assertions.EXACT);
    // The online teacher's weights are constants: the student's checkpoint and parameter count are its own.
    assertEquals(6 * 8 + 8 + 8 * 4 + 4, online.trainableParameters());
  }

  @Test
  void onlineTeacherMustMatchTheData() {
    FrozenTeacher wrong = FrozenTeacher.initial(new TinyMlp(5, 8, 4), 1);
    Distillation kd = new Distillation(0.1f, 0.9f, new Kl(4f));
    var e = assertThrows(
        IllegalArgumentException.class,
        () -> new Trainer(oneThread, List.of()).trainOnline(new TinyMlp(6, 8, 4), train, kd, wrong, work));
    assertTrue(e.getMessage().contains("shape"), e.getMessage());
    var e2 = assertThrows(
        IllegalArgumentException.class,
        () -> new Trainer(oneThread, List.of()).trainOnline(new TinyMlp(6, 8, 4), train, new CrossEntropy(), teacher(), work));
    assertTrue(e2.getMessage().contains("no teacher"), e2.getMessage());
  }

  @Test
  void aListenerCanStopTheRunEarlyAndTheModelIsStillSaved() {
    int[] steps = {0};
    TrainingListener stopAt5 =
        new TrainingListener() {
          @Override
          public void onStep(StepMetrics s) {
            steps[0]++;
          }

          @Override
          public boolean stopRequested() {
            return steps[0] >= 5;
          }
        };
    TrainedModel m =
        new Trainer(new TrainConfig(100, 64, OptimizerConfig.adam(1e-2f), 1, 1), List.of(stopAt5))
            .train(new TinyMlp(6, 8, 4), train, new CrossEntropy(), null, work);
    assertEquals(5, steps[0]);
    assertEquals(1, m.history().size());
    assertTrue(Files.exists(m.checkpointPrefix().resolveSibling("variables.index")));
    assertEquals(200 * 4, logitsOf(m).length);
  }

  @Test
  void askingForAGpuFallsBackToTheCpuWithoutOne() {
    Assumptions.assumeFalse(tensorFlowHasAGpu(), "TensorFlow sees a GPU here: nothing falls back");
    SessionSettings gpu = new SessionSettings(1, 1, SessionSettings.Device.parse("gpu:0"));
    SessionSettings cpu = new SessionSettings(1, 1, SessionSettings.Device.CPU);
    TinyMlp arch = new TinyMlp(6, 8, 4);
    TrainedModel asked =
        new Trainer(oneThread.withEpochs(2), List.of(), gpu.toConfigProto()).train(arch, train, new CrossEntropy(), null, work);
    TrainedModel onCpu =
        new Trainer(oneThread.withEpochs(2), List.of(), cpu.toConfigProto()).train(arch, train, new CrossEntropy(), null, work);
    assertEquals(2, asked.history().size());
    for (TrainingListener.EpochMetrics e : asked.history()) {
      assertTrue(Double.isFinite(e.total()) && e.total() > 0, "epoch " + e.epoch() + " loss " + e.total());
    }
    assertTrue(asked.history().get(1).total() < asked.history().get(0).total(), "the run trained: " + asked.history());
    // What the fallback promises: the same run as on the CPU, to the bit.
    assertEquals(withoutTimes(onCpu.history()), withoutTimes(asked.history()));
    assertAllClose(logitsOf(asked), logitsOf(onCpu), Assertions.EXACT);
  }

  /**
   * Whether this TensorFlow build sees a GPU on this machine: an op pinned to GPU 0 runs only if so (without soft
   * placement, a missing device is an error). A machine with a GPU but the CPU-only native library has none.
   */
  static boolean tensorFlowHasAGpu() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g).withDevice(DeviceSpec.newBuilder().deviceType(DeviceSpec.DeviceType.GPU).deviceIndex(0).build());
      Operand<TFloat32> two = tf.math.add(tf.constant(1f), tf.constant(1f));
      try (Session s = new Session(g);
          Result r = s.runner().fetch(two).run()) {
        return true;
      } catch (TFInvalidArgumentException e) {
        // "Cannot assign a device for operation ...": no such device (TF Java throws this type, not a TensorFlowException).
        return false;
      }
    }
  }

  @Test
  void trainsOnTheGpuWhenThereIsOne() {
    Assumptions.assumeTrue(tensorFlowHasAGpu(), "TensorFlow sees no GPU on this machine (no GPU, or the CPU-only native library)");
    SessionSettings gpu = new SessionSettings(0, 0, SessionSettings.Device.parse("gpu:0"));
    TrainedModel m =
        new Trainer(oneThread, List.of(), gpu.toConfigProto())
            .train(new TinyMlp(6, 16, 4), train, new CrossEntropy(), null, work);
    assertTrue(m.history().get(2).total() < m.history().get(0).total());
  }

  private static FrozenTeacher teacher() {
    return FrozenTeacher.initial(new TinyMlp(6, 32, 4), 11);
  }
}
