package dev.tfkd.graph;

import dev.tfkd.data.Dataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.Tensor;
import org.tensorflow.types.TFloat32;

/**
 * A frozen teacher loaded from a SavedModel in its own session: it computes logits for a dataset in batches, so
 * the student's graph never holds the teacher's variables. Owns its bundle; close it.
 */
public final class SavedModelTeacher implements AutoCloseable {
  private final Path dir;
  private final SavedModelBundle bundle;
  private final SessionFunction function;
  private final String input;
  private final String output;

  private SavedModelTeacher(Path dir, SavedModelBundle bundle, String signature, String input, String output) {
    this.dir = dir;
    this.bundle = bundle;
    this.function = bundle.function(signature);
    this.input = input;
    this.output = output;
  }

  /** Loads {@code dir} (tag {@code serve}) and uses signature {@code serving_default}, input {@code inputs}, output {@code logits}. */
  public static SavedModelTeacher load(Path dir) {
    if (!Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      throw new IllegalArgumentException(dir + ": not a SavedModel (no saved_model.pb)");
    }
    SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve");
    try {
      return new SavedModelTeacher(dir, b, "serving_default", InferenceModel.INPUTS, InferenceModel.LOGITS);
    } catch (RuntimeException e) {
      b.close();
      throw e;
    }
  }

  /** Teacher logits for every example of {@code data}, {@code size x K} row-major. */
  public float[] logits(Dataset data, int numClasses) {
    int e = data.exampleSize();
    float[] out = new float[data.size() * numClasses];
    int batch = 512;
    for (int start = 0; start < data.size(); start += batch) {
      int n = Math.min(batch, data.size() - start);
      try (TFloat32 x = Tensors.floats(InferenceModel.batchShape(data.exampleShape(), n), data.features(), start * e, n * e);
          Result r = function.call(Map.of(input, x))) {
        Tensor t = r.get(output).orElseThrow(() -> new IllegalArgumentException(dir + ": signature has no output " + output));
        if (!(t instanceof TFloat32 f) || t.shape().numDimensions() != 2 || t.shape().get(1) != numClasses) {
          throw new IllegalArgumentException(
              dir + ": teacher output " + output + " has shape " + t.shape() + ", expected [batch, " + numClasses + "]");
        }
        f.asRawTensor().data().asFloats().read(out, start * numClasses, n * numClasses);
      }
    }
    return out;
  }

  @Override
  public void close() {
    bundle.close();
  }
}
