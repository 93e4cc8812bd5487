package dev.tfkd.export;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Child process of the SIGKILL tests. Mode {@code pause}: exports, and waits to be killed just before the rename
 * that publishes. Mode {@code loop}: exports version after version, appending each published path to the marker,
 * until killed at a random moment.
 */
public final class KillDuringExportMain {
  private KillDuringExportMain() {}

  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    Path marker = Path.of(args[1]);
    boolean loop = args.length > 2 && args[2].equals("loop");
    Path work = Files.createTempDirectory(root, "work");
    GaussianMixture g = new GaussianMixture(3, 5, 1.5, 7);
    TrainedModel model =
        new Trainer(new TrainConfig(1, 32, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(new TinyMlp(5, 8, 3), g.sample(64, 1, "train"), new CrossEntropy(), null, work);
    if (loop) {
      Dataset warmup = g.sample(16, 2, "warmup");
      try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
        while (true) {
          Manifest manifest = new Manifest().put("seed", 1).dataset("warmup", warmup);
          Path v = ServingExporter.exportNextVersion(m, root, "m", ExportOptions.withManifest(manifest).withWarmup(warmup, 8, 2));
          Files.writeString(marker, v + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
      }
    }
    ServingExporter.beforePublish =
        tmp -> {
          Files.writeString(marker, tmp.toString());
          try {
            Thread.sleep(120_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      ServingExporter.exportNextVersion(m, root, "m");
    }
  }
}
