package dev.tfkd.examples;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.export.Predictor;
import java.nio.file.Path;

/**
 * Loads an exported classifier with {@link Predictor} and scores it on the built-in Gaussian mixture's test split;
 * exit 1: its probabilities are not finite or its accuracy is not above chance.
 */
public final class PredictWithPredictor {
  public static void main(String[] args) {
    // A version directory (.../student/1) or a model directory (its latest version is used).
    Path model = Path.of(args.length > 0 ? args[0] : "models/student");
    Dataset test = DataSources.load("gmm", null, DataSources.Split.TEST);
    // The dataset's features are one flat row-major array; the predictor takes one row per example.
    float[][] rows = new float[test.size()][test.exampleSize()];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(test.features(), i * rows[i].length, rows[i], 0, rows[i].length);
    }
    int correct = 0;
    boolean finite = true;
    int classes;
    // Load once; the predictor is thread-safe and cuts the rows into batches. Closing frees its native memory.
    try (Predictor predictor = Predictor.load(model)) {
      classes = predictor.numClasses();
      Predictor.Prediction p = predictor.predict(rows);
      for (int i = 0; i < rows.length; i++) {
        correct += p.classes()[i] == test.labels()[i] ? 1 : 0;
        for (float q : p.probabilities()[i]) {
          finite &= Float.isFinite(q);
        }
      }
    }
    double accuracy = (double) correct / rows.length;
    System.out.printf("%s: accuracy %.4f on %d examples of %s%n", model, accuracy, rows.length, test.name());
    if (!finite || !(accuracy > 1.0 / classes)) {
      String why = finite ? "accuracy not above chance (1/" + classes + ")" : "probabilities not finite";
      System.err.println(model + ": " + why);
      System.exit(1);
    }
  }
}
