package dev.tfkd.export;

import com.google.protobuf.ByteString;
import dev.tfkd.export.serving.ClassificationRequest;
import dev.tfkd.export.serving.ClassifyLog;
import dev.tfkd.export.serving.ExampleList;
import dev.tfkd.export.serving.Input;
import dev.tfkd.export.serving.ModelSpec;
import dev.tfkd.export.serving.PredictLog;
import dev.tfkd.export.serving.PredictRequest;
import dev.tfkd.export.serving.PredictionLog;
import dev.tfkd.io.TfRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * TensorFlow Serving warm-up records ({@value #FILE}): a TFRecord file of {@code tensorflow.serving.PredictionLog}
 * messages, each a request that Serving replays when it loads the version, so the first client request does not pay
 * for graph initialisation. The messages are TensorFlow Serving's own, generated from its {@code .proto} files
 * ({@code dev.tfkd.export.serving}); {@code inspect --check} checks them the way Serving runs them.
 */
public final class WarmupRecords {
  private WarmupRecords() {}

  /** Where Serving looks for warm-up records, relative to the version directory. */
  public static final String FILE = "assets.extra/tf_serving_warmup_requests";

  /** Serving refuses to load a version with more records than this. */
  public static final int MAX_RECORDS = 1000;

  /**
   * Writes one predict record per batch: {@code batches.get(i)} holds {@code n x exampleSize} floats, sent to
   * {@code signature} as input {@code input} of shape {@code [n, exampleShape...]}.
   */
  public static void write(
      OutputStream out, String signature, String input, long[] exampleShape, List<float[]> batches)
      throws IOException {
    if (batches.size() > MAX_RECORDS) {
      throw new IllegalArgumentException(
          "TensorFlow Serving reads at most " + MAX_RECORDS + " warm-up records, got " + batches.size());
    }
    long exampleSize = exampleSize(exampleShape);
    for (float[] batch : batches) {
      TfRecord.write(out, predict(signature, input, tensor(batch, examples(batch, exampleSize), exampleShape)));
    }
  }

  private static long exampleSize(long[] exampleShape) {
    long exampleSize = 1;
    for (long d : exampleShape) {
      exampleSize *= d;
    }
    return exampleSize;
  }

  private static long examples(float[] batch, long exampleSize) {
    if (batch.length == 0 || batch.length % exampleSize != 0) {
      throw new IllegalArgumentException(
          "a warm-up batch of " + batch.length + " values is not a whole number of examples of size " + exampleSize);
    }
    return batch.length / exampleSize;
  }

  /** A float32 {@code TensorProto} of shape {@code [n, exampleShape...]} holding {@code values}. */
  static TensorProto tensor(float[] values, long n, long[] exampleShape) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(n));
    for (long d : exampleShape) {
      shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    return TensorProto.newBuilder()
        .setDtype(DataType.DT_FLOAT)
        .setTensorShape(shape)
        .setTensorContent(ByteString.copyFrom(bytes.array()))
        .build();
  }

  /** {@code PredictionLog{predict_log{request{model_spec{signature_name}, inputs{input: tensor}}}}}, serialized. */
  static byte[] predict(String signature, String input, TensorProto tensor) {
    PredictRequest request =
        PredictRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setSignatureName(signature))
            .putInputs(input, tensor)
            .build();
    return PredictionLog.newBuilder()
        .setPredictLog(PredictLog.newBuilder().setRequest(request))
        .build()
        .toByteArray();
  }

  /**
   * {@code PredictionLog{classify_log{request{model_spec{signature_name}, input{example_list}}}}}, serialized: one
   * {@code tf.Example} per example of {@code batch}, its values in the float feature {@code feature}.
   */
  static byte[] classify(String signature, String feature, float[] batch, int exampleSize) {
    ExampleList.Builder list = ExampleList.newBuilder();
    for (int off = 0; off < batch.length; off += exampleSize) {
      FloatList.Builder values = FloatList.newBuilder();
      for (int i = 0; i < exampleSize; i++) {
        values.addValue(batch[off + i]);
      }
      list.addExamples(
          Example.newBuilder()
              .setFeatures(Features.newBuilder().putFeature(feature, Feature.newBuilder().setFloatList(values).build())));
    }
    ClassificationRequest request =
        ClassificationRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setSignatureName(signature))
            .setInput(Input.newBuilder().setExampleList(list))
            .build();
    return PredictionLog.newBuilder()
        .setClassifyLog(ClassifyLog.newBuilder().setRequest(request))
        .build()
        .toByteArray();
  }
}
