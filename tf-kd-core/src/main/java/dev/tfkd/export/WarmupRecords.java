package dev.tfkd.export;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.tfkd.io.TfRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * TensorFlow Serving warm-up records ({@value #FILE}): a TFRecord file of {@code tensorflow.serving.PredictionLog}
 * messages, each a predict request that Serving replays when it loads the version, so the first client request
 * does not pay for graph initialisation.
 *
 * <p>The serving protos are not part of TensorFlow Java, so the few messages are encoded here field by field (field
 * numbers from {@code tensorflow_serving/apis/prediction_log.proto}, {@code predict.proto}, {@code model.proto}):
 * {@code PredictionLog.predict_log = 6}, {@code PredictLog.request = 1}, {@code PredictRequest.model_spec = 1},
 * {@code PredictRequest.inputs = 2} (a map: entries with {@code key = 1}, {@code value = 2}),
 * {@code ModelSpec.signature_name = 3}. The tensor itself is TensorFlow's {@code TensorProto}, which is available.
 */
public final class WarmupRecords {
  private WarmupRecords() {}

  /** Where Serving looks for warm-up records, relative to the version directory. */
  public static final String FILE = "assets.extra/tf_serving_warmup_requests";

  /** Serving reads at most this many records. */
  public static final int MAX_RECORDS = 1000;

  static final int PREDICTION_LOG_PREDICT_LOG = 6;
  static final int PREDICT_LOG_REQUEST = 1;
  static final int PREDICT_REQUEST_MODEL_SPEC = 1;
  static final int PREDICT_REQUEST_INPUTS = 2;
  static final int MODEL_SPEC_SIGNATURE_NAME = 3;
  static final int MAP_KEY = 1;
  static final int MAP_VALUE = 2;

  /**
   * Writes one record per batch: {@code batches.get(i)} holds {@code n x exampleSize} floats, sent to
   * {@code signature} as input {@code input} of shape {@code [n, exampleShape...]}.
   */
  public static void write(
      OutputStream out, String signature, String input, long[] exampleShape, List<float[]> batches)
      throws IOException {
    if (batches.size() > MAX_RECORDS) {
      throw new IllegalArgumentException(
          "TensorFlow Serving reads at most " + MAX_RECORDS + " warm-up records, got " + batches.size());
    }
    long exampleSize = 1;
    for (long d : exampleShape) {
      exampleSize *= d;
    }
    for (float[] batch : batches) {
      if (batch.length == 0 || batch.length % exampleSize != 0) {
        throw new IllegalArgumentException(
            "a warm-up batch of " + batch.length + " values is not a whole number of examples of size " + exampleSize);
      }
      TfRecord.write(out, predictionLog(signature, input, tensor(batch, batch.length / exampleSize, exampleShape)));
    }
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

  /** {@code PredictionLog{predict_log{request{model_spec{signature_name}, inputs{input: tensor}}}}}. */
  static byte[] predictionLog(String signature, String input, TensorProto tensor) throws IOException {
    byte[] modelSpec = message(o -> o.writeString(MODEL_SPEC_SIGNATURE_NAME, signature));
    byte[] entry =
        message(
            o -> {
              o.writeString(MAP_KEY, input);
              o.writeByteArray(MAP_VALUE, tensor.toByteArray());
            });
    byte[] request =
        message(
            o -> {
              o.writeByteArray(PREDICT_REQUEST_MODEL_SPEC, modelSpec);
              o.writeByteArray(PREDICT_REQUEST_INPUTS, entry);
            });
    byte[] predictLog = message(o -> o.writeByteArray(PREDICT_LOG_REQUEST, request));
    return message(o -> o.writeByteArray(PREDICTION_LOG_PREDICT_LOG, predictLog));
  }

  private interface Body {
    void write(CodedOutputStream out) throws IOException;
  }

  private static byte[] message(Body body) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream o = CodedOutputStream.newInstance(bytes);
    body.write(o);
    o.flush();
    return bytes.toByteArray();
  }
}
