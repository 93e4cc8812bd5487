package dev.tfkd.teacher;

import dev.tfkd.data.Dataset;
import dev.tfkd.export.Predictor;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A frozen teacher loaded from a SavedModel in its own session: it computes logits for a dataset in batches, so
 * the student's graph never holds the teacher's variables. Owns its model; close it.
 *
 * <p>Any SavedModel works whose signature takes one float32 input and has an output of logits or probabilities
 * {@code [batch, K]}; probabilities are turned into logits by their logarithm (softmax of {@code log p} is
 * {@code p}, so temperature scaling applies to them as to logits). The graph is scanned before loading and refused
 * if it holds ops outside the allow-list of pure computation, unless {@link TeacherOptions#allowUnsafeOps()}.
 */
public final class SavedModelTeacher implements Teacher {
  /**
   * Which signature and output to use.
   *
   * @param signature the signature key (default {@code serving_default})
   * @param output the output name, or {@code null}: {@code logits}, else {@code probabilities}, else the only output
   * @param kind whether the output holds logits or probabilities; {@code AUTO} decides by its name
   * @param allowUnsafeOps load even if the graph holds file-system or other non-computational ops
   */
  public record TeacherOptions(String signature, String output, Predictor.OutputKind kind, boolean allowUnsafeOps) {
    /** {@code serving_default}, logits (or probabilities) found by name, safe ops only. */
    public static final TeacherOptions DEFAULT =
        new TeacherOptions("serving_default", null, Predictor.OutputKind.AUTO, false);

    /** Validates the signature name; a null kind means {@code AUTO}. */
    public TeacherOptions {
      if (signature == null || signature.isEmpty()) {
        throw new IllegalArgumentException("teacher signature must be named");
      }
      if (kind == null) {
        kind = Predictor.OutputKind.AUTO;
      }
    }
  }

  private final Predictor predictor;

  private SavedModelTeacher(Predictor predictor) {
    this.predictor = predictor;
  }

  /** Loads {@code dir} (tag {@code serve}) with {@link TeacherOptions#DEFAULT}. */
  public static SavedModelTeacher load(Path dir) {
    return load(dir, TeacherOptions.DEFAULT);
  }

  /**
   * Loads {@code dir} (a version directory, or a model directory whose highest integer version is used).
   *
   * @throws IllegalArgumentException if it is no SavedModel, lacks the signature or output, or holds unsafe ops
   */
  public static SavedModelTeacher load(Path dir, TeacherOptions options) {
    return new SavedModelTeacher(
        Predictor.load(
            dir,
            Predictor.Options.DEFAULT
                .withSignature(options.signature())
                .withOutput(options.output(), options.kind())
                .withAllowUnsafeOps(options.allowUnsafeOps())
                .withMaxBatch(512)));
  }

  /** The number of classes the teacher predicts. */
  @Override
  public int numClasses() {
    return predictor.numClasses();
  }

  /** Whether the teacher's output is probabilities (converted to logits by their logarithm). */
  public boolean outputsProbabilities() {
    return predictor.outputsProbabilities();
  }

  /** The shape of one example the teacher takes, without the batch dimension. */
  @Override
  public long[] inputShape() {
    return predictor.exampleShape();
  }

  /** The SavedModel's version directory. */
  @Override
  public String source() {
    return predictor.directory().toString();
  }

  /** Teacher logits for every example of {@code data}, {@code size x K} row-major. */
  @Override
  public float[] logits(Dataset data) {
    return logits(data, data.numClasses());
  }

  /**
   * Teacher logits for every example of {@code data}, {@code size x K} row-major.
   *
   * @param numClasses the class count the caller expects; a teacher of another width is refused
   */
  public float[] logits(Dataset data, int numClasses) {
    if (numClasses != predictor.numClasses()) {
      throw new IllegalArgumentException(
          predictor.directory() + ": the teacher predicts " + predictor.numClasses() + " classes; the data has "
              + numClasses);
    }
    if (data.exampleSize() != predictor.exampleSize()) {
      throw new IllegalArgumentException(
          predictor.directory() + ": the teacher takes examples of shape " + Arrays.toString(predictor.exampleShape())
              + "; " + data.name() + " has " + Arrays.toString(data.exampleShape()));
    }
    return predictor.logits(data.features(), data.size());
  }

  /**
   * Teacher logits for one batch of {@code n} examples, {@code n x K} row-major, computed by the model's
   * session, in chunks of at most 512 (thread-safe, as {@link Predictor#logits(float[], int)}).
   */
  @Override
  public float[] logits(float[] features, int n) {
    return predictor.logits(features, n);
  }

  /** Closes the teacher's session and model. */
  @Override
  public void close() {
    predictor.close();
  }
}
