package dev.tfkd.cli;

import static dev.tfkd.cli.DemoCommandTest.tfkd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Smoke tests of {@code train-teacher} and {@code experiment mcmi} with tiny models and one or two epochs. */
class McmiCommandsTest {

  @Test
  void trainTeacherMcmiExportsWithEvaluation(@TempDir Path root) throws Exception {
    DemoCommandTest.Run r =
        tfkd(
            "train-teacher", "--objective", "mcmi", "--model", "mlp:16", "--epochs", "1", "--finetune-epochs", "1",
            "--centroids", "epoch", "--threads", "1", "--run-dir", root.resolve("run").toString(), "--export-dir",
            root.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("BCPD error"), r.out());
    Path v1 = root.resolve("teacher-mcmi").resolve("1");
    assertTrue(Files.exists(v1.resolve("saved_model.pb")));
    String json = Files.readString(v1.resolve("evaluation.json"));
    assertTrue(json.contains("\"cmi\":") && json.contains("\"perClassAccuracy\":["), json);
    // A run like distill: both phases checkpointed, the CMI logged per epoch, a report, a config that repeats it.
    Path run = root.resolve("run");
    assertTrue(Files.exists(run.resolve("checkpoints/latest")) && Files.exists(run.resolve("finetune/checkpoints/latest")));
    assertTrue(Files.readString(run.resolve("finetune/metrics/epochs.jsonl")).contains("\"val_cmi\":"));
    assertTrue(Files.exists(run.resolve("report/teacher_cmi.png")));
    assertTrue(Files.readString(run.resolve("run_config.pbtxt")).contains("objective: \"mcmi\""));
    DemoCommandTest.Run again = tfkd("train-teacher", "--resume", run.toString(), "--lambda", "0.2");
    assertEquals(2, again.code(), again.err());
    assertTrue(again.err().contains("--resume continues a run"), again.err());
  }

  @Test
  void experimentWritesTablesForEveryProtocolAndSeed(@TempDir Path root) throws Exception {
    DemoCommandTest.Run r =
        tfkd(
            "experiment", "mcmi", "--teacher-model", "mlp:32", "--student-model", "mlp:8", "--teacher-epochs", "1",
            "--finetune-epochs", "1", "--student-epochs", "1", "--few-shot-epochs", "2", "--seeds", "2",
            "--omit-classes", "3,5", "--control", "--threads", "1", "--out", root.toString());
    assertEquals(0, r.code(), r.err());
    String md = Files.readString(root.resolve("results.md"));
    for (String s : new String[] {"| mcmi |", "| mll-ft0 |", "| kd-mcmi |", "class 3", "class 5", "zero-shot", "few-shot", "BCPD"}) {
      assertTrue(md.contains(s), s + " missing from\n" + md);
    }
    String json = Files.readString(root.resolve("results.json"));
    // 2 seeds x 3 settings x 4 students.
    assertEquals(24, json.split("\"setting\":").length - 1, json);
  }

  @Test
  void experimentRunsInsideAFeatureMethod(@TempDir Path root) throws Exception {
    // PKT reads the pooled vectors: the MCMI and MLL teachers run in each student's graph, restored from checkpoints.
    DemoCommandTest.Run r =
        tfkd(
            "experiment", "mcmi", "--teacher-model", "mlp:32", "--student-model", "mlp:8", "--teacher-epochs", "1",
            "--finetune-epochs", "1", "--student-epochs", "1", "--few-shot-epochs", "1", "--seeds", "1",
            "--method", "pkt", "--threads", "1", "--out", root.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("pkt"), r.out());
    String json = Files.readString(root.resolve("results.json"));
    assertTrue(json.contains("pkt"), json);
    // 1 seed x 3 settings x 3 students (alone, kd-mll, kd-mcmi).
    assertEquals(9, json.split("\"setting\":").length - 1, json);
    assertTrue(McmiExperimentCommand.method("ce:1, kl(T=4):0.9, rkd", 0.1f, 0.9f).needsFeatures());
    assertTrue(McmiExperimentCommand.method("pkt", 0.1f, 0.9f) instanceof dev.tfkd.features.LossSpec);
    assertTrue(McmiExperimentCommand.method("kl(T=4)", 0.1f, 0.9f) instanceof dev.tfkd.training.Distillation);
  }

  @Test
  void badInputIsOneLineAndExitTwo(@TempDir Path root) {
    DemoCommandTest.Run r = tfkd("experiment", "mcmi", "--omit-classes", "12", "--out", root.resolve("x").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("outside"), r.err());
    assertFalse(Files.exists(root.resolve("x")));
    // A feature term the models cannot serve (MLPs have no stages) is refused before any teacher trains.
    r = tfkd("experiment", "mcmi", "--method", "at", "--out", root.resolve("x").toString());
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("stage"), r.err());
    assertFalse(r.out().contains("teacher mll"), r.out());
    assertFalse(Files.exists(root.resolve("x")));
    r = tfkd("train-teacher", "--objective", "mmi", "--run-dir", root.resolve("t").toString());
    assertEquals(2, r.code());
    assertFalse(Files.exists(root.resolve("t")));
    assertTrue(r.err().contains("known: mll, mcmi"), r.err());
    r = tfkd("train-teacher", "--centroids", "sometimes", "--run-dir", root.resolve("t").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("once, epoch, ema"), r.err());
  }

  @Test
  void trainTeacherAugmentsImagesAndSavesTheChoice(@TempDir Path root) throws Exception {
    Path run = root.resolve("run");
    DemoCommandTest.Run r =
        tfkd(
            "train-teacher", "--train", "shapes28", "--model", "mlp:16", "--epochs", "1", "--batch-size", "256",
            "--augment", "crop,flip", "--threads", "1", "--run-dir", run.toString(), "--export-dir", root.toString());
    assertEquals(0, r.code(), r.err());
    String saved = Files.readString(run.resolve("run_config.pbtxt"));
    assertTrue(saved.contains("augment: \"crop\"") && saved.contains("augment: \"flip\""), saved);
    // Distilling from that teacher with augmentation: the SavedModel teacher answers every augmented batch.
    Path teacherModel;
    try (var models = Files.list(root)) {
      teacherModel = models.filter(p -> p.getFileName().toString().startsWith("teacher")).findFirst().orElseThrow();
    }
    Path kd = root.resolve("kd");
    r =
        tfkd(
            "distill", "--teacher", teacherModel.toString(), "--train", "shapes28", "--model", "mlp:8", "--epochs", "1",
            "--batch-size", "256", "--augment", "crop,flip", "--threads", "1", "--run-dir", kd.toString(),
            "--export-dir", root.resolve("kd-export").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("student epoch 1/1 done"), r.out());
    String kdSaved = Files.readString(kd.resolve("run_config.pbtxt"));
    assertTrue(kdSaved.contains("augment: \"crop\"") && kdSaved.contains("augment: \"flip\""), kdSaved);
    assertTrue(Files.exists(root.resolve("kd-export/student/1/saved_model.pb")), "the student is exported");
    // Vectors cannot be cropped or flipped, neither for a teacher nor for a student.
    r = tfkd("train-teacher", "--augment", "flip", "--epochs", "1", "--run-dir", root.resolve("gmm").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("[H, W, C]"), r.err());
    r =
        tfkd(
            "distill", "--teacher", teacherModel.toString(), "--train", "gmm", "--model", "mlp:8", "--augment", "flip",
            "--run-dir", root.resolve("d").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--augment") && r.err().contains("[H, W, C]"), r.err());
    assertFalse(Files.exists(root.resolve("d")), "a refused run writes nothing");
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }
}
