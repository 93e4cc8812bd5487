package dev.tfkd.export;

import dev.tfkd.graph.InferenceModel;
import org.tensorflow.Signature;

/**
 * The serving signatures of every tf-kd export and their names: {@code serving_default} (TensorFlow Serving's
 * Predict API) and {@value #CLASSIFY_KEY} (its Classify API), both over the one forward pass of an {@link
 * InferenceModel}.
 *
 * <p>Predict: input {@value #INPUTS} (float32 {@code [batch, dims...]}), outputs {@value #LOGITS}, {@value
 * #PROBABILITIES} ({@code [batch, K]}) and {@value #CLASSES} (int64 {@code [batch]}). Classify: input {@value
 * #INPUTS} (serialized {@code tf.Example} strings, {@code [batch]}, with the float feature {@value
 * #EXAMPLE_FEATURE} holding the flattened example), outputs {@value #CLASSIFY_CLASSES} (string labels) and
 * {@value #CLASSIFY_SCORES} (probabilities), both {@code [batch, K]}.
 */
public final class Signatures {
  /** The predict signature's input: the examples as float32. */
  public static final String INPUTS = "inputs";

  /** Predict outputs. */
  public static final String LOGITS = "logits";

  /** Output key of the probabilities. */
  public static final String PROBABILITIES = "probabilities";
  /** Output key of the predicted classes. */
  public static final String CLASSES = "classes";

  /** The key of the predict signature, and its method name. */
  public static final String PREDICT_KEY = Signature.DEFAULT_KEY;

  /** Method name of a predict signature. */
  public static final String PREDICT_METHOD = "tensorflow/serving/predict";

  /** The classify signature's key, method and outputs. */
  public static final String CLASSIFY_KEY = "classify";

  /** Method name of a classify signature. */
  public static final String CLASSIFY_METHOD = "tensorflow/serving/classify";
  /** Output key of the classify signature's classes. */
  public static final String CLASSIFY_CLASSES = "classes";
  /** Output key of the classify signature's scores. */
  public static final String CLASSIFY_SCORES = "scores";

  /** The tf.Example feature holding the flattened example as a float list. */
  public static final String EXAMPLE_FEATURE = InferenceModel.EXAMPLE_FEATURE;

  private Signatures() {}

  /** The {@code serving_default} signature of {@code model}, method {@value #PREDICT_METHOD}. */
  public static Signature predict(InferenceModel model) {
    return Signature.builder()
        .key(PREDICT_KEY)
        .methodName(PREDICT_METHOD)
        .input(INPUTS, model.inputs())
        .output(LOGITS, model.logits())
        .output(PROBABILITIES, model.probabilities())
        .output(CLASSES, model.classes())
        .build();
  }

  /** The {@value #CLASSIFY_KEY} signature of {@code model}, method {@value #CLASSIFY_METHOD}. */
  public static Signature classify(InferenceModel model) {
    return Signature.builder()
        .key(CLASSIFY_KEY)
        .methodName(CLASSIFY_METHOD)
        .input(INPUTS, model.examples())
        .output(CLASSIFY_CLASSES, model.classLabelOutput())
        .output(CLASSIFY_SCORES, model.scores())
        .build();
  }
}
