package dev.tfkd.cli;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.io.AtomicFiles;
import dev.tfkd.models.Models;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A small teacher SavedModel for the built-in Gaussian mixture, trained once per test JVM. */
final class TestTeacher {
  private static Path path;

  private TestTeacher() {}

  static synchronized Path path() {
    if (path == null) {
      try {
        Path root = Files.createTempDirectory("tfkd-test-teacher-");
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
                      try {
                        AtomicFiles.deleteRecursively(root);
                      } catch (IOException ignored) {
                        // A temporary directory left behind is not worth failing for.
                      }
                    }));
        Dataset train = GaussianMixture.demo().sample(3000, 5, "teacher-train");
        var arch = Models.create("mlp:32", train.exampleShape(), train.numClasses());
        TrainedModel m =
            new Trainer(new TrainConfig(4, 64, OptimizerConfig.adam(3e-3f), 1, 1), List.of())
                .train(arch, train, new CrossEntropy(), null, root);
        try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
          path = ServingExporter.export(im, root.resolve("teacher").resolve("1"));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return path;
  }
}
