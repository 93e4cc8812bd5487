package dev.tfkd.models;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.objectives.TeacherObjectives;
import dev.tfkd.run.TeacherTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Java API refuses a model larger than the machine as the command line does: before anything is written. */
class RunMemoryCheckTest {
  @TempDir Path work;

  @Test
  void aTeacherTooLargeForTheMachineIsRefusedBeforeTheRunDirectoryExists() {
    Path run = work.resolve("runs/huge");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                TeacherTrainer.builder()
                    .architecture(Models.create("mlp:100000000,100000000", new long[] {20}, 10))
                    .objective(TeacherObjectives.Spec.of(TeacherObjectives.Kind.MLL))
                    .train(DataSources.load("gmm", null, DataSources.Split.TRAIN))
                    .epochs(1)
                    .runDirectory(run)
                    .exportTo(work.resolve("models"))
                    .build()
                    .fit());
    assertTrue(e.getMessage().contains("needs about") && e.getMessage().contains("Adam slots"), e.getMessage());
    assertFalse(Files.exists(run), "a refused run left " + run);
    assertFalse(Files.exists(work.resolve("models")), "a refused run left its export root");
  }
}
