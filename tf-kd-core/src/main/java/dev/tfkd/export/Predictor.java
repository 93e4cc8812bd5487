package dev.tfkd.export;

import dev.tfkd.data.io.Images;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

/**
 * Predictions from a SavedModel, for Java applications: load an export once, call {@link #predict} from any number
 * of threads, close it when done.
 *
 * <p>Built on {@link SavedModelClassifier}, which binds the signature, decides the output's kind and computes
 * logits in batches. Works with tf-kd's exports and with any SavedModel whose signature takes one float32 input
 * {@code [batch, ...]} and has an output of logits, probabilities or log-probabilities {@code [batch, K]}. The
 * model is read, judged and loaded through {@link ScannedSavedModel}: the {@code {serve}} meta graph is scanned by {@link GraphSafety} and
 * refused if any op that loading or calling it can run does more than compute (loading runs the graph), unless
 * {@link Options#allowUnsafeOps()}; what is loaded is exactly what was scanned.
 *
 * <p>Thread-safe: TensorFlow sessions run concurrent calls; a read-write lock keeps {@link #close()} from freeing the
 * model under a running call. Large inputs are cut into batches of {@link Options#maxBatch()}; every tensor is
 * freed before a call returns, so nothing native outlives {@link #close()}.
 */
public final class Predictor implements AutoCloseable {
  /**
   * How to load and call the model.
   *
   * @param signature the signature key, e.g. {@code serving_default}
   * @param output the output to read, or {@code null}: {@code logits} if the signature has it, else
   *     {@code probabilities}, else its only output (the signature must have one input)
   * @param kind whether {@code output} holds logits, probabilities or log-probabilities, or {@code AUTO}: decided
   *     from the graph and confirmed by the values
   * @param allowUnsafeOps load even if the graph holds ops outside the allow-list
   * @param maxBatch the most examples sent to TensorFlow in one call
   * @param threads TensorFlow intra-op threads, 0 for TensorFlow's default, at most {@link
   *     dev.tfkd.training.SessionSettings#MAX_THREADS}
   * @param allowNonFinite predict for inputs holding NaN or infinities instead of refusing them
   */
  public record Options(
      String signature, String output, OutputKind kind, boolean allowUnsafeOps, int maxBatch, int threads,
      boolean allowNonFinite) {
    /** {@code serving_default}, the output kind found in the graph, safe ops only, batches of 256. */
    public static final Options DEFAULT = new Options("serving_default", null, OutputKind.AUTO, false, 256, 0, false);

    /** Validated as {@link SavedModelClassifier.Binding} validates them. */
    public Options {
      new SavedModelClassifier.Binding(signature, null, output, kind, allowUnsafeOps, maxBatch, threads);
    }

    /**
     * The options before non-finite inputs had a setting (refused).
     *
     * @param signature the signature key
     * @param output the output to read, or null
     * @param kind what the output holds
     * @param allowUnsafeOps load even if the graph holds ops outside the allow-list
     * @param maxBatch the most examples sent to TensorFlow in one call
     * @param threads TensorFlow intra-op threads
     */
    public Options(String signature, String output, OutputKind kind, boolean allowUnsafeOps, int maxBatch, int threads) {
      this(signature, output, kind, allowUnsafeOps, maxBatch, threads, false);
    }

    /**
     * These options with non-finite inputs allowed or refused.
     *
     * @param allow whether to predict for inputs holding NaN or infinities
     * @return a copy
     */
    public Options withAllowNonFinite(boolean allow) {
      return new Options(signature, output, kind, allowUnsafeOps, maxBatch, threads, allow);
    }

    /**
     * These options with another signature.
     *
     * @param s the signature name
     * @return a copy
     */
    public Options withSignature(String s) {
      return new Options(s, output, kind, allowUnsafeOps, maxBatch, threads, allowNonFinite);
    }

    /**
     * These options with another output and its kind.
     *
     * @param o the output name
     * @param k what the output holds
     * @return a copy
     */
    public Options withOutput(String o, OutputKind k) {
      return new Options(signature, o, k, allowUnsafeOps, maxBatch, threads, allowNonFinite);
    }

    /**
     * These options with unsafe ops allowed or refused.
     *
     * @param allow whether to load graphs with ops outside the safe list
     * @return a copy
     */
    public Options withAllowUnsafeOps(boolean allow) {
      return new Options(signature, output, kind, allow, maxBatch, threads, allowNonFinite);
    }

    /**
     * These options with another maximum batch.
     *
     * @param b the largest batch fed at once
     * @return a copy
     */
    public Options withMaxBatch(int b) {
      return new Options(signature, output, kind, allowUnsafeOps, b, threads, allowNonFinite);
    }

    /**
     * These options with another thread count.
     *
     * @param t the session threads
     * @return a copy
     */
    public Options withThreads(int t) {
      return new Options(signature, output, kind, allowUnsafeOps, maxBatch, t, allowNonFinite);
    }
  }

  /**
   * Predictions for a batch.
   *
   * @param logits {@code [n][K]} (the log of the probabilities when the model outputs probabilities)
   * @param probabilities {@code [n][K]}: the model's own probabilities (its {@code probabilities} output, or the
   *     output read when it holds probabilities); the softmax of the logits only for a model that outputs neither
   * @param classes {@code [n]}, the arg-max class of each example
   */
  public record Prediction(float[][] logits, float[][] probabilities, int[] classes) {}

  private final SavedModelClassifier model;
  private final boolean allowNonFinite;

  private Predictor(SavedModelClassifier model, boolean allowNonFinite) {
    this.model = model;
    this.allowNonFinite = allowNonFinite;
  }

  /** Loads the SavedModel in {@code dir} with {@link Options#DEFAULT}. */
  public static Predictor load(Path dir) {
    return load(dir, Options.DEFAULT);
  }

  /**
   * Loads the SavedModel in {@code dir} (tag {@code serve}). {@code dir} may also be a model's base directory
   * ({@code <root>/<name>}), in which case its highest integer version is loaded.
   *
   * @throws IllegalArgumentException if it is not a usable SavedModel or holds unsafe ops (naming op and node)
   */
  public static Predictor load(Path dir, Options options) {
    return new Predictor(
        SavedModelClassifier.load(
            dir,
            new SavedModelClassifier.Binding(
                options.signature(), null, options.output(), options.kind(), options.allowUnsafeOps(),
                options.maxBatch(), options.threads())),
        options.allowNonFinite());
  }

  /**
   * Loads the SavedModel in {@code dir} bound as {@code binding} says (which also names the input to feed).
   *
   * @throws IllegalArgumentException if it is not a usable SavedModel or holds unsafe ops (naming op and node)
   */
  public static Predictor load(Path dir, SavedModelClassifier.Binding binding) {
    return load(dir, binding, false);
  }

  /**
   * Loads the SavedModel in {@code dir} bound as {@code binding} says, refusing or accepting non-finite inputs.
   *
   * @param dir a version directory, or a model directory (its latest version)
   * @param binding the signature, input and output to use
   * @param allowNonFinite predict for inputs holding NaN or infinities instead of refusing them
   * @return the predictor; close it
   * @throws IllegalArgumentException if it is not a usable SavedModel or holds unsafe ops (naming op and node)
   */
  public static Predictor load(Path dir, SavedModelClassifier.Binding binding, boolean allowNonFinite) {
    return new Predictor(SavedModelClassifier.load(dir, binding), allowNonFinite);
  }

  /**
   * The name of each class, in class order: the names the model was exported with (an image folder's sub-folder
   * names, a {@code --class-names} file), as its classify signature returns them; {@code "0"} to {@code "K-1"} for
   * a model without them.
   *
   * @return K names
   */
  public List<String> classNames() {
    return model.classNames();
  }

  /** The version directory loaded. */
  public Path directory() {
    return model.directory();
  }

  /** The shape of one example (without the batch dimension). */
  public long[] exampleShape() {
    return model.exampleShape();
  }

  /** Values per example. */
  public int exampleSize() {
    return model.exampleSize();
  }

  /** The number of classes K. */
  public int numClasses() {
    return model.numClasses();
  }

  /** The signature output read. */
  public String output() {
    return model.output();
  }

  /** Whether the output holds probabilities (turned into logits by their floored logarithm). */
  public boolean outputsProbabilities() {
    return model.outputsProbabilities();
  }

  /** What the output was read as ({@link SavedModelClassifier#outputKind()}). */
  public OutputKind outputKind() {
    return model.outputKind();
  }

  /** One line saying how the output is read and why ({@link SavedModelClassifier#outputDecision()}). */
  public String outputDecision() {
    return model.outputDecision();
  }

  /** Ops outside the allow-list that were accepted because {@link Options#allowUnsafeOps()} was set. */
  public List<GraphSafety.Finding> unsafeOps() {
    return model.unsafeOps();
  }

  /**
   * Logits for {@code n} examples stored row-major in {@code features} ({@code n * exampleSize()} values),
   * {@code n x K} row-major. The core call; the other methods reshape around it.
   */
  public float[] logits(float[] features, int n) {
    requireFinite(features);
    return model.logits(features, n);
  }

  /**
   * Refuses NaN and infinite inputs unless allowed: a network turns them into a finite, confident prediction (a
   * ReLU maps NaN to 0), so a corrupt row would be classified silently.
   */
  private void requireFinite(float[] features) {
    if (allowNonFinite) {
      return;
    }
    int e = model.exampleSize();
    for (int i = 0; i < features.length; i++) {
      if (!Float.isFinite(features[i])) {
        throw new IllegalArgumentException(
            "row " + i / e + ", column " + i % e + " is " + features[i] + ": inputs must be finite (allow them with"
                + " Predictor.Options.withAllowNonFinite, --allow-non-finite)");
      }
    }
  }

  /** Predictions for {@code rows}, each one flattened example of {@link #exampleSize()} values. */
  public Prediction predict(float[][] rows) {
    float[] flat = new float[rows.length * model.exampleSize()];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != model.exampleSize()) {
        throw new IllegalArgumentException(
            "example " + i + " has " + rows[i].length + " values; the model takes " + model.exampleSize());
      }
      System.arraycopy(rows[i], 0, flat, i * model.exampleSize(), model.exampleSize());
    }
    return prediction(flat, rows.length);
  }

  /** Predictions for images {@code [n][height][width][channels]}, matching the model's input shape. */
  public Prediction predict(float[][][][] images) {
    long[] shape = model.exampleShape();
    if (shape.length != 3) {
      throw new IllegalArgumentException(
          "the model takes examples of shape " + java.util.Arrays.toString(shape) + ", not images [h, w, c]");
    }
    float[] flat = new float[images.length * model.exampleSize()];
    int p = 0;
    for (int i = 0; i < images.length; i++) {
      float[][][] img = images[i];
      if (img.length != shape[0]) {
        throw new IllegalArgumentException("image " + i + " has height " + img.length + ", expected " + shape[0]);
      }
      for (float[][] row : img) {
        if (row.length != shape[1]) {
          throw new IllegalArgumentException("image " + i + " has width " + row.length + ", expected " + shape[1]);
        }
        for (float[] px : row) {
          if (px.length != shape[2]) {
            throw new IllegalArgumentException(
                "image " + i + " has " + px.length + " channels, expected " + shape[2]);
          }
          System.arraycopy(px, 0, flat, p, px.length);
          p += px.length;
        }
      }
    }
    return prediction(flat, images.length);
  }

  /**
   * Predictions for images of exactly the model's height and width; each pixel's channels (1: luminance, 3: RGB)
   * are multiplied by {@code scale} (e.g. {@code 1f / 255} for a model trained on [0, 1] pixels, {@code 1f} for raw
   * 0-255 values).
   */
  public Prediction predict(List<BufferedImage> images, float scale) {
    long[] shape = model.exampleShape();
    if (shape.length != 3 || (shape[2] != 1 && shape[2] != 3)) {
      throw new IllegalArgumentException(
          "the model takes examples of shape " + java.util.Arrays.toString(shape)
              + ", not images [h, w, 1 or 3]");
    }
    int h = (int) shape[0];
    int w = (int) shape[1];
    int c = (int) shape[2];
    float[] flat = new float[images.size() * model.exampleSize()];
    int p = 0;
    for (int i = 0; i < images.size(); i++) {
      BufferedImage img = images.get(i);
      if (img.getHeight() != h || img.getWidth() != w) {
        throw new IllegalArgumentException(
            "image " + i + " is " + img.getWidth() + "x" + img.getHeight() + "; the model takes " + w + "x" + h);
      }
      // Decoded values are in [0, 1]; the caller's scale applies to 0-255 values.
      for (float v : Images.pixels(img).withChannels(c).values()) {
        flat[p++] = v * 255f * scale;
      }
    }
    return prediction(flat, images.size());
  }

  /**
   * Predictions for {@code n} examples stored row-major in {@code features}: logits, the model's own probabilities
   * and the arg-max classes.
   *
   * @param features {@code n * exampleSize()} values
   * @param n the number of examples
   * @return the predictions
   */
  public Prediction predict(float[] features, int n) {
    return prediction(features, n);
  }

  private Prediction prediction(float[] features, int n) {
    requireFinite(features);
    SavedModelClassifier.Outputs o = model.outputs(features, n);
    float[] logits = o.logits();
    float[][] l = new float[n][model.numClasses()];
    float[][] pr = new float[n][model.numClasses()];
    int[] cls = new int[n];
    double[] lp = new double[model.numClasses()];
    for (int i = 0; i < n; i++) {
      System.arraycopy(logits, i * model.numClasses(), l[i], 0, model.numClasses());
      if (o.probabilities() != null) {
        System.arraycopy(o.probabilities(), i * model.numClasses(), pr[i], 0, model.numClasses());
      } else {
        // A model with logits only: its probabilities are their softmax.
        dev.tfkd.metrics.Metrics.logSoftmax(logits, i * model.numClasses(), model.numClasses(), lp);
        for (int c = 0; c < model.numClasses(); c++) {
          pr[i][c] = (float) Math.exp(lp[c]);
        }
      }
      int best = 0;
      for (int c = 0; c < model.numClasses(); c++) {
        if (l[i][c] > l[i][best]) {
          best = c;
        }
      }
      cls[i] = best;
    }
    return new Prediction(l, pr, cls);
  }

  /** Frees the model. Waits for running calls; later calls throw {@link IllegalStateException}. */
  @Override
  public void close() {
    model.close();
  }
}
