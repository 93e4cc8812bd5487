package dev.tfkd.export;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.Variables;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

class PredictorImageTest {
  /** TinyMlp on 2x2 RGB images, flattened in the graph. */
  record TinyImageNet() implements Architecture {
    @Override
    public String name() {
      return "tiny-image";
    }

    @Override
    public long[] inputShape() {
      return new long[] {2, 2, 3};
    }

    @Override
    public int numClasses() {
      return 3;
    }

    @Override
    public Forward build(Ops tf, Operand<TFloat32> x, Variables vars, Mode mode) {
      return new TinyMlp(12, 8, 3).build(tf, tf.reshape(x, tf.constant(new long[] {-1, 12})), vars, mode);
    }
  }

  @Test
  void imagesAsArraysAndBufferedImagesGiveTheSameAsFlatRows(@TempDir Path tmp) throws Exception {
    Dataset flat = new GaussianMixture(3, 12, 1.5, 5).sample(100, 1, "g");
    Dataset images = new Dataset("img", flat.features(), flat.labels(), new long[] {2, 2, 3}, 3, null);
    TrainedModel model =
        new Trainer(new TrainConfig(1, 32, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(new TinyImageNet(), images, new CrossEntropy(), null, tmp);
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      ServingExporter.exportNextVersion(m, tmp.resolve("models"), "img");
    }
    // Two images: pixel (x, y) of image i has channels r, g, b.
    BufferedImage[] bi = {new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB), new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB)};
    float[][][][] arrays = new float[2][2][2][3];
    float[][] rows = new float[2][12];
    for (int i = 0; i < 2; i++) {
      for (int y = 0; y < 2; y++) {
        for (int x = 0; x < 2; x++) {
          int r = 40 * i + 10 * y + x, g = 200 - r, b = 7 * r % 256;
          bi[i].setRGB(x, y, r << 16 | g << 8 | b);
          arrays[i][y][x] = new float[] {r / 255f, g / 255f, b / 255f};
          System.arraycopy(arrays[i][y][x], 0, rows[i], (y * 2 + x) * 3, 3);
        }
      }
    }
    try (Predictor p = Predictor.load(tmp.resolve("models/img"))) {
      float[][] expected = p.predict(rows).logits();
      float[][] fromArrays = p.predict(arrays).logits();
      float[][] fromImages = p.predict(List.of(bi), 1f / 255).logits();
      for (int i = 0; i < 2; i++) {
        assertAllClose(fromArrays[i], expected[i], Assertions.EXACT);
        assertAllClose(fromImages[i], expected[i], Assertions.FLOAT32_TIGHT);
      }
      BufferedImage wrong = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
      var e = assertThrows(IllegalArgumentException.class, () -> p.predict(List.of(wrong), 1f));
      assertEquals("image 0 is 3x2; the model takes 2x2", e.getMessage());
    }
  }
}
