package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.graph.InferenceModel;
import dev.tfkd.models.Models;
import dev.tfkd.training.checkpoint.Checkpoints;
import dev.tfkd.training.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.SavedModelBundle;

/**
 * The SIGKILL campaign (slow; {@code mvn -Pkill-campaign ...}, or {@code -Dtfkd.killCampaign=true}): one run is
 * killed again and again at random moments (starting up, mid-step, while checkpointing, while exporting), and
 * continued each time with {@code --resume}. After every kill the latest checkpoint and every published export must
 * load; at the end the run must match an uninterrupted one bit for bit. {@code -Dtfkd.killCampaign.kills=N} sets
 * the number of kills (default 12), {@code -Dtfkd.killCampaign.seed=S} the moments.
 */
@EnabledIfSystemProperty(named = "tfkd.killCampaign", matches = "true")
class KillCampaignTest {
  @TempDir Path dir;

  @Test
  void manyKillsLoseNothingAndTheRunEndsAsIfUninterrupted() throws Exception {
    int kills = Integer.getInteger("tfkd.killCampaign.kills", 12);
    SplittableRandom rng = new SplittableRandom(Long.getLong("tfkd.killCampaign.seed", 11L));
    Path run = dir.resolve("run");
    String[] fresh = DistillCommandTest.distill(run, "--epochs", "4", "--batch-size", "100", "--seed", "9");
    List<String> moments = new ArrayList<>();
    for (int i = 0; i < kills; i++) {
      boolean started = Files.exists(run.resolve("run_config.pbtxt"));
      String[] args = started ? new String[] {"distill", "--resume", run.toString()} : fresh;
      Path log = dir.resolve("child-" + i + ".log");
      Process p = KillAndResumeTest.start(log, args);
      // One kill in four during start-up; the others once training has begun, at a random moment within ~3 s
      // (an epoch here takes about a second: steps, validation, checkpoint, and at the end the export).
      boolean duringStartup = rng.nextInt(4) == 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!duringStartup && p.isAlive() && !KillAndResumeTest.read(log).contains("distilling")) {
        assertTrue(System.nanoTime() < deadline, "no training after 120 s");
        Thread.sleep(10);
      }
      long delay = rng.nextLong(3000);
      boolean ended = p.waitFor(delay, TimeUnit.MILLISECONDS);
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
      moments.add((duringStartup ? "start+" : "training+") + delay + "ms" + (ended ? " (had ended, exit " + p.exitValue() + ")" : ""));
      if (ended) {
        assertEquals(0, p.exitValue(), KillAndResumeTest.read(dir.resolve("child-" + i + ".log")));
      }
      checkIntact(run, false);
    }
    DemoCommandTest.Run last = DemoCommandTest.tfkd("distill", "--resume", run.toString());
    assertEquals(0, last.code(), last.err());
    checkIntact(run, true);
    Path whole = dir.resolve("whole");
    DemoCommandTest.Run uninterrupted =
        DemoCommandTest.tfkd(DistillCommandTest.distill(whole, "--epochs", "4", "--batch-size", "100", "--seed", "9"));
    assertEquals(0, uninterrupted.code(), uninterrupted.err());
    assertEquals(DistillCommandTest.figures(whole), DistillCommandTest.figures(run), "kills at " + moments);
    List<String> expected = Files.readAllLines(whole.resolve("metrics/steps.jsonl"));
    List<String> actual = Files.readAllLines(run.resolve("metrics/steps.jsonl"));
    for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
      assertEquals(expected.get(i), actual.get(i), "steps.jsonl line " + i + "; kills at " + moments);
    }
    assertEquals(expected.size(), actual.size(), "steps.jsonl lines; kills at " + moments);
    System.out.println("kill campaign: " + kills + " kills at " + moments);
  }

  /**
   * The latest checkpoint restores to finite outputs and every published export loads. After a kill either may not
   * exist yet; after the finished run ({@code finished}) both must.
   */
  private static void checkIntact(Path run, boolean finished) throws Exception {
    var latest = new Checkpoints(run.resolve("checkpoints")).latest();
    Path exports = run.resolve("export/student");
    if (finished) {
      assertTrue(latest.isPresent(), "no checkpoint in the finished run " + run);
      assertTrue(Files.isDirectory(exports), "no export in the finished run " + run);
    }
    if (latest.isPresent()) {
      var arch = Models.create("mlp:16", new long[] {20}, 10);
      try (InferenceModel m = InferenceModel.restore(arch, latest.get().prefix(), Trainer.sessionConfig(1))) {
        float[] z = m.logits(dev.tfkd.data.GaussianMixture.demo().sample(10, 3, "probe"));
        for (float v : z) {
          assertTrue(Float.isFinite(v));
        }
      }
    }
    if (Files.isDirectory(exports)) {
      try (var versions = Files.list(exports)) {
        for (Path v : (Iterable<Path>) versions.filter(p -> !p.getFileName().toString().startsWith("."))::iterator) {
          try (SavedModelBundle b = SavedModelBundle.load(v.toString(), "serve")) {
            assertTrue(b.metaGraphDef().getSignatureDefMap().containsKey("serving_default"), v.toString());
          }
        }
      }
    }
  }
}
