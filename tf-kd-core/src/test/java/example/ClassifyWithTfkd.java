package example;

import dev.tfkd.export.Predictor;
import java.nio.file.Path;

/** The README's Java example, compiled and run by {@code ReadmeExampleTest}: keep the two identical. */
public final class ClassifyWithTfkd {
  public static void main(String[] args) {
    // A version directory (.../student-distilled/1) or a model directory (its latest version is used).
    Path model = Path.of(args.length > 0 ? args[0] : "savedmodels/demo/student-distilled");
    // Load once; the predictor is thread-safe. Its graph is scanned first: file-system ops are refused.
    try (Predictor predictor = Predictor.load(model)) {
      float[][] batch = new float[3][predictor.exampleSize()];
      batch[1][0] = 2.5f;
      batch[2][1] = -1.0f;
      Predictor.Prediction p = predictor.predict(batch);
      for (int i = 0; i < batch.length; i++) {
        int c = p.classes()[i];
        System.out.printf("example %d: class %d (p = %.3f)%n", i, c, p.probabilities()[i][c]);
      }
    } // Closing frees the model's native memory.
  }
}
