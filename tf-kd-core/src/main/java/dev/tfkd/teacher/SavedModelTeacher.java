package dev.tfkd.teacher;

import dev.tfkd.data.Dataset;
import dev.tfkd.export.OutputKind;
import dev.tfkd.export.SavedModelClassifier;
import java.nio.file.Path;
import dev.tfkd.training.BatchFeatures;
import java.util.Arrays;
import java.util.Map;

/**
 * A frozen teacher loaded from a SavedModel in its own session: it computes logits for a dataset in batches, so
 * the student's graph never holds the teacher's variables. Owns its model; close it.
 *
 * <p>Any SavedModel works whose signature takes one float32 input and has an output of logits, probabilities or
 * log-probabilities {@code [batch, K]} (Keras and TensorFlow 2 exports included): what the output holds is decided
 * from the graph and confirmed by the first batch's values ({@link OutputKind#AUTO}), and probabilities are turned
 * into logits by their floored logarithm ({@link SavedModelClassifier#PROBABILITY_FLOOR}; softmax of {@code log p}
 * is {@code p}, so temperature scaling applies to them as to logits). The graph is scanned before loading and
 * refused if it holds ops outside the allow-list of pure computation, unless {@link TeacherOptions#allowUnsafeOps()}.
 * Binding, kind decision and batching are {@link SavedModelClassifier}'s.
 *
 * <p>With {@link TeacherOptions#features()} the teacher also serves feature points ({@link BatchFeatures}): named
 * tensors of its graph, or the outputs of a tf-kd export's {@code features} signature, fetched with the logits of
 * every batch, so feature losses can learn from a model that is not rebuilt from the zoo.
 */
public final class SavedModelTeacher implements Teacher, BatchFeatures {
  /**
   * Which signature, input and output to use.
   *
   * @param signature the signature key (default {@code serving_default})
   * @param input the input name, or {@code null}: the signature's only input
   * @param output the output name, or {@code null}: {@code logits}, else {@code probabilities}, else the only output
   * @param kind what the output holds; {@code AUTO} (also for null) decides from the graph, confirmed by the values
   * @param allowUnsafeOps load even if the graph holds file-system or other non-computational ops
   * @param preprocess applied to the data before the teacher sees it (null: {@link InputPreprocess#NONE})
   * @param features the feature points the teacher serves with its logits (null: {@link
   *     SavedModelClassifier.FeatureBinding#NONE})
   */
  public record TeacherOptions(
      String signature, String input, String output, OutputKind kind, boolean allowUnsafeOps,
      InputPreprocess preprocess, SavedModelClassifier.FeatureBinding features) {
    /** {@code serving_default}, its only input, the output kind found in the graph, safe ops only, no preprocessing. */
    public static final TeacherOptions DEFAULT =
        new TeacherOptions("serving_default", null, null, OutputKind.AUTO, false, InputPreprocess.NONE);

    /** Options without feature points. */
    public TeacherOptions(
        String signature, String input, String output, OutputKind kind, boolean allowUnsafeOps,
        InputPreprocess preprocess) {
      this(signature, input, output, kind, allowUnsafeOps, preprocess, SavedModelClassifier.FeatureBinding.NONE);
    }

    /**
     * A copy serving {@code features}.
     *
     * @param features the feature points
     * @return a copy
     */
    public TeacherOptions withFeatures(SavedModelClassifier.FeatureBinding features) {
      return new TeacherOptions(signature, input, output, kind, allowUnsafeOps, preprocess, features);
    }

    /** Validates the signature name; a null kind means {@code AUTO}. */
    public TeacherOptions {
      if (signature == null || signature.isEmpty()) {
        throw new IllegalArgumentException("teacher signature must be named");
      }
      if (kind == null) {
        kind = OutputKind.AUTO;
      }
      if (preprocess == null) {
        preprocess = InputPreprocess.NONE;
      }
      if (features == null) {
        features = SavedModelClassifier.FeatureBinding.NONE;
      }
    }

    /** Options for the signature's only input, without preprocessing. */
    public TeacherOptions(String signature, String output, OutputKind kind, boolean allowUnsafeOps) {
      this(signature, null, output, kind, allowUnsafeOps, InputPreprocess.NONE);
    }
  }

  /** Examples per TensorFlow call: large enough to keep the session busy, small enough for any model's memory. */
  private static final int MAX_BATCH = 512;

  private final SavedModelClassifier model;
  private final InputPreprocess preprocess;

  private SavedModelTeacher(SavedModelClassifier model, InputPreprocess preprocess) {
    this.model = model;
    this.preprocess = preprocess;
  }

  /** Loads {@code dir} (tag {@code serve}) with {@link TeacherOptions#DEFAULT}. */
  public static SavedModelTeacher load(Path dir) {
    return load(dir, TeacherOptions.DEFAULT);
  }

  /**
   * Loads {@code dir} (a version directory, or a model directory whose highest integer version is used).
   *
   * @throws IllegalArgumentException if it is no SavedModel, lacks the signature, input or output, or holds unsafe
   *     ops
   */
  public static SavedModelTeacher load(Path dir, TeacherOptions options) {
    return new SavedModelTeacher(
        SavedModelClassifier.load(
            dir,
            new SavedModelClassifier.Binding(
                options.signature(), options.input(), options.output(), options.kind(), options.allowUnsafeOps(),
                MAX_BATCH, 0),
            options.features()),
        options.preprocess());
  }

  /** The number of classes the teacher predicts. */
  @Override
  public int numClasses() {
    return model.numClasses();
  }

  /** Whether the teacher's output is probabilities (converted to logits by their logarithm). */
  public boolean outputsProbabilities() {
    return model.outputsProbabilities();
  }

  /** How the output is read and why ({@link SavedModelClassifier#outputDecision()}). */
  @Override
  public String outputReading() {
    return preprocess.isNone()
        ? model.outputDecision()
        : model.outputDecision() + "; input fed as (x * scale - mean) / std with " + preprocess.describe();
  }

  /** Ops outside the allow-list that were let through because {@link TeacherOptions#allowUnsafeOps()} was set. */
  @Override
  public java.util.List<dev.tfkd.export.GraphSafety.Finding> unsafeOps() {
    return model.unsafeOps();
  }

  /** The shape of one example the teacher takes, without the batch dimension. */
  @Override
  public long[] inputShape() {
    return model.exampleShape();
  }

  /** The SavedModel's version directory. */
  @Override
  public String source() {
    return model.directory().toString();
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
    if (numClasses != model.numClasses()) {
      throw new IllegalArgumentException(
          model.directory() + ": the teacher predicts " + model.numClasses() + " classes; the data has " + numClasses);
    }
    // Only the element count must match: examples are fed row-major in the teacher's own shape, so [28, 28, 1]
    // data reaches a [28, 28] or [784] input unchanged, and the reverse.
    if (data.exampleSize() != model.exampleSize()) {
      throw new IllegalArgumentException(
          model.directory() + ": the teacher takes examples of shape " + Arrays.toString(model.exampleShape())
              + "; " + data.name() + " has " + Arrays.toString(data.exampleShape()));
    }
    float[] features = preprocess.isNone() ? data.features() : preprocess.apply(data.features());
    return model.logits(features, data.size());
  }

  /**
   * Teacher logits for one batch of {@code n} examples, {@code n x K} row-major, computed by the model's
   * session after the teacher's preprocessing (thread-safe, as {@link SavedModelClassifier#logits(float[], int)}).
   */
  @Override
  public float[] logits(float[] features, int n) {
    return model.logits(preprocess.isNone() ? features : preprocess.apply(features), n);
  }

  /** The feature points the teacher serves (empty unless {@link TeacherOptions#features()} asked for some). */
  @Override
  public Map<String, long[]> featureShapes() {
    return model.featureShapes();
  }

  /** Logits and feature points of one batch, after the teacher's preprocessing, in one session call per batch. */
  @Override
  public BatchFeatures.Answer answer(float[] features, int n) {
    SavedModelClassifier.FeatureOutputs out = model.featureOutputs(preprocess.isNone() ? features : preprocess.apply(features), n);
    return new BatchFeatures.Answer(out.logits(), out.points());
  }

  /** Closes the teacher's session and model. */
  @Override
  public void close() {
    model.close();
  }
}
