package dev.tfkd.export;

import dev.tfkd.graph.InferenceModel;
import java.util.Map;
import java.util.TreeSet;
import org.tensorflow.Signature;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

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

  /**
   * The optional signature of an export's feature points (method {@value #PREDICT_METHOD}, input {@value #INPUTS}):
   * one output per feature point of the model, by the point's name. Written only on request ({@link
   * ExportOptions#features()}); a teacher that carries it serves its points to feature losses.
   */
  public static final String FEATURES_KEY = "features";

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

  /**
   * The {@value #FEATURES_KEY} signature of {@code model}, method {@value #PREDICT_METHOD}: input {@value #INPUTS},
   * one float32 output {@code [batch, ...]} per feature point ({@link InferenceModel#features()}), on the tensors
   * the forward pass already computes (no node is added to the graph).
   *
   * @param model the model
   * @return the signature
   * @throws IllegalArgumentException when the model's architecture names no feature point besides its logits
   */
  public static Signature features(InferenceModel model) {
    Signature.Builder b = Signature.builder().key(FEATURES_KEY).methodName(PREDICT_METHOD).input(INPUTS, model.inputs());
    model.features().forEach(b::output);
    return b.build();
  }

  /**
   * The signatures of {@code model} as an export of it records them: keys, methods, and each input's and output's
   * dtype and shape (tensor names left empty). What {@link #difference} compares, available before anything is
   * trained or written.
   *
   * @param model the model (its variables need not be restored)
   * @return the signatures by key
   */
  public static Map<String, SignatureDef> defs(InferenceModel model) {
    return defs(model, false);
  }

  /**
   * As {@link #defs(InferenceModel)}, with the {@value #FEATURES_KEY} signature when {@code features}.
   *
   * @param model the model (its variables need not be restored)
   * @param features whether the export carries the feature points' signature
   * @return the signatures by key
   */
  public static Map<String, SignatureDef> defs(InferenceModel model, boolean features) {
    Map<String, SignatureDef> out = new java.util.LinkedHashMap<>();
    java.util.List<Signature> all = new java.util.ArrayList<>(java.util.List.of(predict(model), classify(model)));
    if (features) {
      all.add(features(model));
    }
    for (Signature s : all) {
      SignatureDef.Builder b = SignatureDef.newBuilder().setMethodName(s.methodName());
      s.getInputs().forEach((k, t) -> b.putInputs(k, info(t)));
      s.getOutputs().forEach((k, t) -> b.putOutputs(k, info(t)));
      out.put(s.key(), b.build());
    }
    return out;
  }

  private static TensorInfo info(Signature.TensorDescription t) {
    org.tensorflow.proto.TensorShapeProto.Builder shape = org.tensorflow.proto.TensorShapeProto.newBuilder();
    if (t.shape.isUnknown()) {
      shape.setUnknownRank(true);
    } else {
      for (long d : t.shape.asArray()) {
        shape.addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(d));
      }
    }
    return TensorInfo.newBuilder().setDtype(t.dataType).setTensorShape(shape).build();
  }

  /**
   * The first difference between two sets of signatures that a client would notice, or {@code null} when they
   * agree: the signature keys, each signature's method, its input and output names, their dtypes and shapes. The
   * graph tensors behind the names do not matter to a client and are not compared.
   *
   * @param before the signatures of the earlier version, by key
   * @param after the signatures of the new version, by key
   * @return a short description such as {@code serving_default input 'inputs' shape [-1,5] -> [-1,7]}, or null
   */
  public static String difference(Map<String, SignatureDef> before, Map<String, SignatureDef> after) {
    if (!before.keySet().equals(after.keySet())) {
      return "signatures " + new TreeSet<>(before.keySet()) + " -> " + new TreeSet<>(after.keySet());
    }
    for (String key : new TreeSet<>(before.keySet())) {
      SignatureDef a = before.get(key);
      SignatureDef b = after.get(key);
      if (!a.getMethodName().equals(b.getMethodName())) {
        return key + " method " + a.getMethodName() + " -> " + b.getMethodName();
      }
      String d = difference(key + " input", a.getInputsMap(), b.getInputsMap());
      if (d == null) {
        d = difference(key + " output", a.getOutputsMap(), b.getOutputsMap());
      }
      if (d != null) {
        return d;
      }
    }
    return null;
  }

  private static String difference(String what, Map<String, TensorInfo> a, Map<String, TensorInfo> b) {
    if (!a.keySet().equals(b.keySet())) {
      return what + "s " + new TreeSet<>(a.keySet()) + " -> " + new TreeSet<>(b.keySet());
    }
    for (String name : new TreeSet<>(a.keySet())) {
      TensorInfo x = a.get(name);
      TensorInfo y = b.get(name);
      if (x.getDtype() != y.getDtype()) {
        return what + " '" + name + "' dtype " + x.getDtype() + " -> " + y.getDtype();
      }
      String sx = Inspection.shape(x.getTensorShape());
      String sy = Inspection.shape(y.getTensorShape());
      if (!sx.equals(sy)) {
        return what + " '" + name + "' shape " + sx + " -> " + sy;
      }
    }
    return null;
  }
}
