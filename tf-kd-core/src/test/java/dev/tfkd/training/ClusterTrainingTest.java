package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.cluster.ClusterFailureException;
import dev.tfkd.cluster.ClusterSpec;
import dev.tfkd.cluster.TaskProcess;
import dev.tfkd.cluster.TaskServer;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Synchronous data-parallel training on TensorFlow's distributed runtime, on loopback: one parameter server and two
 * workers (worker 0 is this process, the chief). Tasks that a test kills run in child JVMs.
 */
@Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES)
class ClusterTrainingTest {
  @TempDir Path work;

  private final GaussianMixture mixture = new GaussianMixture(4, 6, 1.5, 42);
  private final Dataset train = mixture.sample(601, 1, "train");
  private final Dataset validation = mixture.sample(200, 2, "validation");
  private final TinyMlp arch = new TinyMlp(6, 16, 4);

  private ReplicationTest.Run run(Replication r, String dir, boolean resume, List<TrainingListener> listeners) {
    return ReplicationTest.run(r, new CrossEntropy(), null, train, validation, arch, work.resolve(dir), resume, listeners);
  }

  private static void startInProcess(ClusterSpec spec, String job, int index) {
    TaskServer.start(spec, job, index, false, null);
  }

  @Test
  void onePsAndTwoWorkersTrainAsOneProcess() throws Exception {
    ClusterSpec spec = TaskProcess.loopback(1, 2);
    startInProcess(spec, "ps", 0);
    startInProcess(spec, "worker", 0);
    startInProcess(spec, "worker", 1);
    ReplicationTest.Run one = run(Replication.NONE, "one", false, List.of());
    ReplicationTest.Run cluster = run(Replication.cluster(spec), "cluster", false, List.of());
    assertAllClose(cluster.logits(), one.logits(), Assertions.FLOAT32_LOOSE);
    assertAllClose(cluster.losses(), one.losses(), Assertions.FLOAT32_LOOSE);
    // The parameter server still holds the first run's variables: a run of another shape under the same names
    // starts afresh instead of failing to initialise them.
    ReplicationTest.Run narrower =
        ReplicationTest.run(
            Replication.cluster(spec), new CrossEntropy(), null, train, validation, new TinyMlp(6, 8, 4),
            work.resolve("narrower"), false, List.of());
    assertEquals(3, narrower.history().size());
  }

  @Test
  void aKilledWorkerThatIsRestartedRejoinsAndTheRunContinuesFromItsCheckpoint() throws Exception {
    ClusterSpec spec = TaskProcess.loopback(1, 2);
    startInProcess(spec, "ps", 0);
    startInProcess(spec, "worker", 0);
    Path log = work.resolve("worker1.log");
    Process[] worker = {TaskProcess.start(spec, "worker", 1, log)};
    AtomicInteger resumed = new AtomicInteger();
    TrainingListener killer =
        new TrainingListener() {
          @Override
          public void onEpoch(EpochMetrics e) {
            if (e.epoch() == 0 && resumed.get() == 0) {
              try {
                TaskProcess.kill(worker[0]);
                // Started again a little later, at the same address, while the chief waits for it.
                Thread restart = new Thread(() -> {
                  try {
                    Thread.sleep(1000);
                    worker[0] = TaskProcess.start(spec, "worker", 1, log);
                  } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                  }
                });
                restart.start();
              } catch (InterruptedException ex) {
                throw new IllegalStateException(ex);
              }
            }
          }

          @Override
          public void onResume(List<EpochMetrics> history) {
            resumed.incrementAndGet();
          }
        };
    try {
      ReplicationTest.Run one = run(Replication.NONE, "one", false, List.of());
      ReplicationTest.Run cluster = run(Replication.cluster(spec), "cluster", false, List.of(killer));
      assertEquals(1, resumed.get(), "the run continued from its checkpoint once");
      assertEquals(3, cluster.history().size());
      assertAllClose(cluster.logits(), one.logits(), Assertions.FLOAT32_LOOSE);
    } finally {
      TaskProcess.kill(worker[0]);
    }
  }

  @Test
  void aDeadParameterServerStopsTheRunAndResumeContinuesIt() throws Exception {
    ClusterSpec spec = TaskProcess.loopback(1, 2);
    startInProcess(spec, "worker", 0);
    startInProcess(spec, "worker", 1);
    Path log = work.resolve("ps.log");
    Process ps = TaskProcess.start(spec, "ps", 0, log);
    TrainingListener killer =
        new TrainingListener() {
          @Override
          public void onEpoch(EpochMetrics e) {
            if (e.epoch() == 0) {
              try {
                TaskProcess.kill(ps);
              } catch (InterruptedException ex) {
                throw new IllegalStateException(ex);
              }
            }
          }
        };
    Process again = null;
    try {
      ClusterFailureException e =
          assertThrows(ClusterFailureException.class, () -> run(Replication.cluster(spec), "cluster", false, List.of(killer)));
      assertTrue(e.getMessage().startsWith("parameter server /job:ps/task:0 at " + spec.ps().get(0)), e.getMessage());
      assertTrue(e.getMessage().contains("--resume"), e.getMessage());
      again = TaskProcess.start(spec, "ps", 0, log);
      ReplicationTest.Run resumed = run(Replication.cluster(spec), "cluster", true, List.of());
      ReplicationTest.Run one = run(Replication.NONE, "one", false, List.of());
      assertEquals(3, resumed.history().size());
      assertAllClose(resumed.logits(), one.logits(), Assertions.FLOAT32_LOOSE);
    } finally {
      TaskProcess.kill(ps);
      if (again != null) {
        TaskProcess.kill(again);
      }
    }
  }

  @Test
  void aTaskOnAPublicAddressIsRefused() {
    ClusterSpec spec = new ClusterSpec(List.of("8.8.8.8:2222"), List.of("127.0.0.1:2223"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TaskServer.start(spec, "worker", 0, false, null));
    assertTrue(e.getMessage().contains("8.8.8.8:2222") && e.getMessage().contains("--allow-public-network"), e.getMessage());
  }
}
