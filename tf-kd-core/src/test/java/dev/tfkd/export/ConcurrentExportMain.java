package dev.tfkd.export;

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
 * Child process of the concurrent-export test: trains a tiny model, waits for the start file, exports one version
 * of {@code <root>/m} (holding each export open before its rename, so that the exporters overlap) and prints the
 * version directory it published.
 */
public final class ConcurrentExportMain {
  private ConcurrentExportMain() {}

  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    Path start = Path.of(args[1]);
    Path work = Files.createTempDirectory(root, "work");
    TrainedModel model =
        new Trainer(new TrainConfig(1, 32, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(new TinyMlp(5, 8, 3), new GaussianMixture(3, 5, 1.5, 7).sample(64, 1, "train"), new CrossEntropy(), null, work);
    ServingExporter.beforePublish = tmp -> sleep(300);
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      while (!Files.exists(start)) {
        sleep(10);
      }
      Path v = ServingExporter.exportNextVersion(m, root, "m", ExportOptions.NONE.withFile("evaluation.json", "{}\n".getBytes()));
      System.out.println("published " + v);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
