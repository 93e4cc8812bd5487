package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.SavedModelBundle;

/** {@code tfkd distill} end to end on the built-in Gaussian mixture, with a small teacher trained here. */
class DistillCommandTest {
  @TempDir Path dir;

  static Path teacher() {
    return TestTeacher.path();
  }

  static DemoCommandTest.Run tfkd(String... args) {
    return DemoCommandTest.tfkd(args);
  }

  static String[] distill(Path runDir, String... more) {
    String[] base = {
      "distill", "--teacher", teacher().toString(), "--train", "gmm", "--test", "gmm", "--model", "mlp:16",
      "--threads", "1", "--run-dir", runDir.toString()
    };
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  /** results.json without the paths, which differ between runs. */
  static String figures(Path runDir) throws Exception {
    return Files.readString(runDir.resolve("results.json"))
        .replaceAll("\"(run_dir|export|report)\":\"[^\"]*\",?", "")
        .strip();
  }

  @Test
  void distillWritesConfigLogsCheckpointsReportAndExport() throws Exception {
    Path run = dir.resolve("run");
    DemoCommandTest.Run r = tfkd(distill(run, "--epochs", "2"));
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("| student | 5000 |"), r.out());
    assertTrue(r.out().contains("| teacher | 5000 |"), r.out());
    // Not a terminal here: plain lines, no carriage returns.
    assertFalse(r.out().contains("\r"), r.out());
    assertTrue(r.out().contains("student epoch 2/2 done"), r.out());
    for (String f :
        new String[] {
          "run_config.pbtxt", "results.json", "metrics/steps.jsonl", "metrics/epochs.jsonl", "checkpoints/latest",
          "checkpoints/epoch-0002/state.pbtxt", "report/index.html", "report/losses.png", "report/accuracy.png",
          "report/reliability.png", "report/per_class_accuracy.png", "export/student/1/saved_model.pb"
        }) {
      assertTrue(Files.exists(run.resolve(f)), f + " missing");
    }
    assertEquals(2, Files.readAllLines(run.resolve("metrics/epochs.jsonl")).size());
    assertEquals(2 * 157, Files.readAllLines(run.resolve("metrics/steps.jsonl")).size());
    String html = Files.readString(run.resolve("report/index.html"));
    for (String img : new String[] {"losses.png", "accuracy.png", "reliability.png", "per_class_accuracy.png"}) {
      assertTrue(html.contains("src=\"" + img + "\""), img);
      BufferedImage image = ImageIO.read(run.resolve("report").resolve(img).toFile());
      assertEquals(900, image.getWidth());
    }
    assertTrue(html.contains("<td>student</td><td>5000</td>"), html);
    try (SavedModelBundle b = SavedModelBundle.load(run.resolve("export/student/1").toString(), "serve")) {
      assertTrue(b.metaGraphDef().getSignatureDefMap().containsKey("serving_default"));
    }
    // Provenance and warm-up records are published inside the version directory.
    String manifest = Files.readString(run.resolve("export/student/1/assets.extra/tfkd-manifest.json"));
    for (String key : new String[] {"\"configuration\"", "\"seed\"", "\"logits_sha256\"", "\"train\"", "\"test\""}) {
      assertTrue(manifest.contains(key), key + " not in the manifest");
    }
    assertTrue(Files.size(run.resolve("export/student/1/assets.extra/tf_serving_warmup_requests")) > 0);
    try (var tb = Files.list(run.resolve("tensorboard"))) {
      assertEquals(1, tb.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).count());
    }
  }

  @Test
  void configFileFlagsOverrideItAndTheSavedConfigRepeatsTheRunExactly() throws Exception {
    Path cfg = dir.resolve("run.pbtxt");
    Files.writeString(
        cfg,
        "# a distillation run\n"
            + "data { train: \"gmm\" test: \"gmm\" }\n"
            + "model: \"mlp:8\"\n"
            + "training { epochs: 5 batch_size: 256 learning_rate: 0.003 seed: 0 threads: 1 }\n"
            + "distillation { teacher: \"" + teacher() + "\" divergence: \"kl(T=2)\" ce_weight: 0.5 kd_weight: 0.5 }\n");
    Path a = dir.resolve("a");
    DemoCommandTest.Run r = tfkd("distill", "--config", cfg.toString(), "--epochs", "2", "--run-dir", a.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().strip().startsWith("{") && r.out().strip().endsWith("}"), r.out());
    assertTrue(r.out().contains("\"epochs\":2"), r.out());
    assertTrue(r.out().contains("\"model\":\"mlp-20-8-10\""), r.out());
    String saved = Files.readString(a.resolve("run_config.pbtxt"));
    assertTrue(saved.contains("epochs: 2"), saved);
    assertTrue(saved.contains("seed: 0"), saved);
    assertTrue(saved.contains("divergence: \"kl(T=2)\""), saved);

    Path b = dir.resolve("b");
    r = tfkd("distill", "--config", a.resolve("run_config.pbtxt").toString(), "--run-dir", b.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals(figures(a), figures(b));
    assertEquals(
        Files.readAllLines(a.resolve("metrics/steps.jsonl")), Files.readAllLines(b.resolve("metrics/steps.jsonl")));
  }

  @Test
  void badInputGivesOneLineAndExitTwoAndNoRunDirectory() throws Exception {
    Path run = dir.resolve("bad");
    DemoCommandTest.Run r = tfkd(distill(run, "--divergence", "nope"));
    assertEquals(2, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("unknown divergence 'nope'"), r.err());
    assertFalse(Files.exists(run), "a run directory was left behind");

    r = tfkd("distill", "--teacher", dir.resolve("missing").toString(), "--train", "gmm", "--run-dir", run.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("no such teacher"), r.err());
    assertFalse(Files.exists(run));

    Path cfg = dir.resolve("broken.pbtxt");
    Files.writeString(cfg, "data { train: \"gmm\" }\ntraining { epoch: 3 }\n");
    r = tfkd("distill", "--config", cfg.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("broken.pbtxt:2:"), r.err());

    r = tfkd("distill", "--resume", dir.toString(), "--epochs", "3");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("give no other run options"), r.err());

    r = tfkd(distill(run, "--validation-split", "0.1"));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("not both"), r.err());

    Path file = Files.writeString(dir.resolve("a-file"), "x");
    r = tfkd(distill(file.resolve("run"), "--epochs", "1"));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("cannot write the run directory"), r.err());

    r = tfkd(distill(run, "--divergence", "nope", "--debug"));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("\tat dev.tfkd."), r.err());
  }

  @Test
  void runDirectoryIsNotReusedAndEarlyStoppingEndsTheRun() throws Exception {
    Path run = dir.resolve("es");
    // A validation split, and patience 1 with an impossible min delta: the run stops after its second epoch.
    DemoCommandTest.Run r =
        tfkd(
            "distill", "--teacher", teacher().toString(), "--train", "gmm", "--validation-split", "0.2",
            "--model", "mlp:8", "--threads", "1", "--epochs", "10", "--early-stopping", "1",
            "--run-dir", run.toString(), "--json", "--config", writeMinDelta());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("\"epochs\":2,\"stopped_early\":true"), r.out());
    assertTrue(r.out().contains("\"student\":{\"examples\":4000"), r.out());
    r = tfkd(distill(run, "--epochs", "1"));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("already holds a run"), r.err());
  }

  private String writeMinDelta() throws Exception {
    Path cfg = dir.resolve("es.pbtxt");
    Files.writeString(cfg, "early_stopping { min_delta: 2.0 }\n");
    return cfg.toString();
  }
}
