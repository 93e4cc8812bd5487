package dev.tfkd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunConfigsTest {
  @TempDir Path dir;

  private RunConfig valid() {
    RunConfig.Builder b = RunConfigs.defaults("distill").toBuilder();
    b.getDataBuilder().setTrain("gmm").setTest("gmm");
    b.getDistillationBuilder().setTeacher("t");
    b.getOutputBuilder().setRunDir("runs/x");
    return b.build();
  }

  @Test
  void savedConfigReadsBackEqualIncludingZerosThatDifferFromDefaults() throws Exception {
    RunConfig.Builder b = valid().toBuilder();
    b.getTrainingBuilder().setSeed(0).setMomentum(0f).setOptimizer(TrainingConfig.Optimizer.SGD);
    b.getDistillationBuilder().setCeWeight(0f);
    RunConfig c = RunConfigs.validate(b.build());
    Path file = RunConfigs.save(c, dir);
    RunConfig back = RunConfigs.mergeFile(RunConfigs.defaults("distill"), file);
    assertEquals(c, back);
    assertEquals(0L, back.getTrainingOrBuilder().getSeed());
    assertEquals(0f, back.getTraining().getMomentum());
  }

  @Test
  void fileFieldsOverrideDefaultsAndUnsetFieldsKeepThem() throws Exception {
    Path f = dir.resolve("run.pbtxt");
    Files.writeString(f, "# comment\ntraining { epochs: 3 }\ndata { train: \"gmm\" }\n");
    RunConfig c = RunConfigs.mergeFile(RunConfigs.defaults("distill"), f);
    assertEquals(3, c.getTraining().getEpochs());
    assertEquals(128, c.getTraining().getBatchSize());
    assertEquals("gmm", c.getData().getTrain());
    assertEquals(0.9f, c.getDistillation().getKdWeight());
  }

  @Test
  void errorsNameTheFileLineAndField() throws Exception {
    Path f = dir.resolve("bad.pbtxt");
    Files.writeString(f, "data { train: \"gmm\" }\ntraining { epochz: 3 }\n");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RunConfigs.mergeFile(RunConfigs.defaults("distill"), f));
    assertTrue(e.getMessage().startsWith(f + ":2:"), e.getMessage());
    assertTrue(e.getMessage().contains("epochz"), e.getMessage());
    Files.writeString(f, "command: \"train-teacher\"\n");
    e = assertThrows(IllegalArgumentException.class, () -> RunConfigs.mergeFile(RunConfigs.defaults("distill"), f));
    assertTrue(e.getMessage().contains("not for 'distill'"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> RunConfigs.mergeFile(RunConfigs.defaults("distill"), dir.resolve("none.pbtxt")));
    assertTrue(e.getMessage().contains("no such config file"), e.getMessage());
  }

  @Test
  void validationNamesTheField() {
    RunConfig.Builder b = valid().toBuilder();
    b.getTrainingBuilder().setEpochs(0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunConfigs.validate(b.build()));
    assertTrue(e.getMessage().contains("epochs"), e.getMessage());
    RunConfig.Builder c = valid().toBuilder();
    c.getEarlyStoppingBuilder().setPatience(2);
    c.getDataBuilder().clearTest();
    e = assertThrows(IllegalArgumentException.class, () -> RunConfigs.validate(c.build()));
    assertTrue(e.getMessage().contains("validation data"), e.getMessage());
    RunConfig.Builder d = valid().toBuilder();
    d.getDistillationBuilder().clearTeacher();
    e = assertThrows(IllegalArgumentException.class, () -> RunConfigs.validate(d.build()));
    assertTrue(e.getMessage().contains("distillation.teacher is required"), e.getMessage());
    assertEquals(List.of("distillation.teacher"), ((ConfigException) e).fields());
    assertEquals(5, RunConfigs.trainConfig(valid().toBuilder().setTraining(valid().getTraining().toBuilder().setEpochs(5)).build()).epochs());
  }

  @Test
  void aFieldGivenTwiceIsRefusedNamingBothLines() throws Exception {
    Path f = dir.resolve("twice.pbtxt");
    Files.writeString(f, "data { train: \"gmm\" }\ntraining {\n  epochs: 3\n  batch_size: 8\n  epochs: 4\n}\n");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RunConfigs.mergeFile(RunConfigs.defaults("distill"), f));
    assertEquals(f + ":5: training.epochs is given twice, on lines 3 and 5 (a config sets each field once)", e.getMessage());

    Files.writeString(f, "model: \"mlp\"\ndata { train: \"gmm\" }\nmodel: \"cnn\"\n");
    e = assertThrows(IllegalArgumentException.class, () -> RunConfigs.mergeFile(RunConfigs.defaults("distill"), f));
    assertTrue(e.getMessage().contains("model is given twice, on lines 1 and 3"), e.getMessage());

    Files.writeString(f, "training { epochs: 3 }\ndata { train: \"gmm\" }\ntraining { batch_size: 8 }\n");
    e = assertThrows(IllegalArgumentException.class, () -> RunConfigs.mergeFile(RunConfigs.defaults("distill"), f));
    assertTrue(e.getMessage().startsWith(f + ": training { ... } is given 2 times, on lines 1 and 3"), e.getMessage());

    // Each field once, in one block each: accepted.
    Files.writeString(f, "training { epochs: 3 batch_size: 8 }\ndata { train: \"gmm\" }\n");
    assertEquals(3, RunConfigs.mergeFile(RunConfigs.defaults("distill"), f).getTraining().getEpochs());
  }

  @Test
  void threadsAreBounded() {
    RunConfig.Builder b = valid().toBuilder();
    b.getTrainingBuilder().setThreads(100_000);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunConfigs.validate(b.build()));
    assertEquals(
        "training.threads must be in [0, 256] (0 = TensorFlow's default, one per core), got 100000",
        e.getMessage());
    b.getTrainingBuilder().setThreads(256);
    assertEquals(256, RunConfigs.validate(b.build()).getTraining().getThreads());
  }

  @Test
  void augmentMapsToTheTrainConfigOfBothCommands() {
    RunConfig.Builder t = RunConfigs.defaults("train-teacher").toBuilder();
    t.getOutputBuilder().setRunDir("runs/t");
    t.getTrainingBuilder().addAugment("crop").addAugment("flip");
    RunConfig teacher = RunConfigs.validate(t.build());
    assertEquals(dev.tfkd.data.Augmentation.cifar(), RunConfigs.trainConfig(teacher).augmentation());
    assertEquals(dev.tfkd.data.Augmentation.NONE, RunConfigs.trainConfig(valid()).augmentation());
    t.getTrainingBuilder().addAugment("rotate");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunConfigs.validate(t.build()));
    assertTrue(e.getMessage().contains("training.augment") && e.getMessage().contains("rotate"), e.getMessage());
    // distill takes it too: its teacher then runs online on every augmented batch.
    RunConfig.Builder d = valid().toBuilder();
    d.getTrainingBuilder().addAugment("flip");
    assertEquals(new dev.tfkd.data.Augmentation(0, true), RunConfigs.trainConfig(RunConfigs.validate(d.build())).augmentation());
  }

  @Test
  void lossTermsTakeSeveralTeachers() {
    RunConfig.Builder d = valid().toBuilder();
    var dc = d.getDistillationBuilder().clearTeacher().setTeacherCombination("ca-mkd");
    dc.addTeachersBuilder().setPath("a");
    dc.addTeachersBuilder().setPath("b");
    dc.addTerm(dev.tfkd.config.LossTerm.newBuilder().setSpec("ce").setWeight(1));
    dc.addTerm(dev.tfkd.config.LossTerm.newBuilder().setSpec("ofd"));
    RunConfig c = RunConfigs.validate(d.build());
    assertEquals("ce:1, ofd(decay=2):0.001", RunConfigs.lossSpec(c.getDistillation()).describe());
  }
}
