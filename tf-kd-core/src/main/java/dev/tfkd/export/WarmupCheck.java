package dev.tfkd.export;

import dev.tfkd.export.serving.ClassificationRequest;
import dev.tfkd.export.serving.Input;
import dev.tfkd.export.serving.InferenceTask;
import dev.tfkd.export.serving.MultiInferenceRequest;
import dev.tfkd.export.serving.PredictRequest;
import dev.tfkd.export.serving.PredictionLog;
import dev.tfkd.export.serving.RegressionRequest;
import dev.tfkd.io.TfRecord;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Checks TensorFlow Serving warm-up records ({@value WarmupRecords#FILE}) the way TensorFlow Serving 2.18 replays
 * them when it loads a version ({@code saved_model_warmup_util.cc}, {@code saved_model_warmup.cc}), which fails the
 * whole load on the first bad record: the file must be TFRecord framing with valid CRCs; each record must parse as a
 * {@code tensorflow.serving.PredictionLog}; there may be at most {@value WarmupRecords#MAX_RECORDS} of them; and
 * each request must run against the model: its signature exists (an empty name means {@code serving_default}) with
 * a method the request type accepts, and a predict request sends exactly the signature's input keys (Serving allows
 * fewer only when the signature has defaults), each a well-formed tensor of the input's dtype and a shape the
 * input's shape admits, and asks only for outputs the signature has; classify and regress requests carry at least
 * one example.
 *
 * <p>Stricter than Serving in one place: a record with no request at all (no log type; Serving skips it) is an
 * error, since it is what a garbage payload usually parses to.
 */
final class WarmupCheck {
  private WarmupCheck() {}

  /** At most this many bad records are described. */
  private static final int MAX_REPORTED = 10;

  /**
   * Checks the warm-up file's bytes against the {@code {serve}} meta graph's signatures; adds errors naming the file
   * and the record; returns the number of records read (up to the first framing error).
   */
  static int check(byte[] file, Map<String, SignatureDef> signatures, List<String> errors) {
    List<byte[]> records = new ArrayList<>();
    String framing = frames(file, records);
    if (framing != null) {
      errors.add(WarmupRecords.FILE + ": " + framing + " (TensorFlow Serving reads TFRecord framing)");
    }
    if (records.size() > WarmupRecords.MAX_RECORDS) {
      errors.add(WarmupRecords.FILE + ": " + records.size() + " records; TensorFlow Serving refuses to load a version"
          + " with more than " + WarmupRecords.MAX_RECORDS);
    }
    int bad = 0;
    for (int i = 0; i < records.size(); i++) {
      String problem = checkRecord(records.get(i), signatures);
      if (problem != null) {
        if (bad < MAX_REPORTED) {
          errors.add(WarmupRecords.FILE + ": record " + i + ": " + problem);
        }
        bad++;
      }
    }
    if (bad > MAX_REPORTED) {
      errors.add(WarmupRecords.FILE + ": " + (bad - MAX_REPORTED) + " more bad records");
    }
    return records.size();
  }

  /** Splits TFRecord framing into {@code out}; returns what is wrong, or null. */
  static String frames(byte[] file, List<byte[]> out) {
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      int n = out.size();
      if (b.remaining() < 12) {
        return "truncated record header after " + n + " records";
      }
      long len = b.getLong();
      if (b.getInt() != TfRecord.maskedCrc32c(file, b.position() - 12, 8) || len < 0 || len > b.remaining() - 4) {
        return "damaged record " + n + " (bad length or length CRC)";
      }
      int start = b.position();
      b.position(start + (int) len);
      if (b.getInt() != TfRecord.maskedCrc32c(file, start, (int) len)) {
        return "damaged record " + n + " (bad data CRC)";
      }
      byte[] r = new byte[(int) len];
      System.arraycopy(file, start, r, 0, r.length);
      out.add(r);
    }
    return null;
  }

  /** What Serving would fail on for this record, or null. */
  static String checkRecord(byte[] record, Map<String, SignatureDef> signatures) {
    PredictionLog log;
    try {
      log = PredictionLog.parseFrom(record);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return "not a tensorflow.serving.PredictionLog (" + e.getMessage() + ")";
    }
    return switch (log.getLogTypeCase()) {
      case PREDICT_LOG -> predict(log.getPredictLog().getRequest(), signatures);
      case CLASSIFY_LOG -> {
        ClassificationRequest r = log.getClassifyLog().getRequest();
        yield exampleRequest(r.getModelSpec().getSignatureName(), Signatures.CLASSIFY_METHOD, r.getInput(), signatures);
      }
      case REGRESS_LOG -> {
        RegressionRequest r = log.getRegressLog().getRequest();
        yield exampleRequest(r.getModelSpec().getSignatureName(), Inspection.REGRESS_METHOD, r.getInput(), signatures);
      }
      case MULTI_INFERENCE_LOG -> multiInference(log.getMultiInferenceLog().getRequest(), signatures);
      case SESSION_RUN_LOG, PREDICT_STREAMED_LOG ->
          "a " + log.getLogTypeCase().name().toLowerCase(java.util.Locale.ROOT) + "; TensorFlow Serving warms up only"
              + " with predict, classify, regress and multi_inference logs";
      case LOGTYPE_NOT_SET -> "a PredictionLog without any request (a garbage payload?)";
    };
  }

  private static String signatureName(String name) {
    return name.isEmpty() ? Signatures.PREDICT_KEY : name;
  }

  private static String predict(PredictRequest r, Map<String, SignatureDef> signatures) {
    String key = signatureName(r.getModelSpec().getSignatureName());
    SignatureDef sig = signatures.get(key);
    if (sig == null) {
      return "predict request for signature '" + key + "', which the model does not have (has "
          + new TreeSet<>(signatures.keySet()) + ")";
    }
    if (!Inspection.METHODS.contains(sig.getMethodName())) {
      return "predict request for signature '" + key + "' of method '" + sig.getMethodName() + "'";
    }
    Set<String> sent = r.getInputsMap().keySet();
    Set<String> wanted = sig.getInputsMap().keySet();
    Set<String> extra = new TreeSet<>(sent);
    extra.removeAll(wanted);
    if (!extra.isEmpty()) {
      return "predict request to '" + key + "' sends input " + extra + ", which the signature does not have (inputs "
          + new TreeSet<>(wanted) + ")";
    }
    Set<String> missing = new TreeSet<>(wanted);
    missing.removeAll(sent);
    if (!missing.isEmpty() && sig.getDefaultsCount() == 0) {
      return "predict request to '" + key + "' lacks input " + missing;
    }
    for (var in : r.getInputsMap().entrySet()) {
      String problem = tensor(in.getValue(), sig.getInputsMap().get(in.getKey()));
      if (problem != null) {
        return "predict request to '" + key + "', input '" + in.getKey() + "': " + problem;
      }
    }
    Set<String> seen = new HashSet<>();
    for (String alias : r.getOutputFilterList()) {
      if (!sig.getOutputsMap().containsKey(alias) || !seen.add(alias)) {
        return "predict request to '" + key + "' asks for output '" + alias + "' "
            + (seen.contains(alias) ? "twice" : "which the signature does not have");
      }
    }
    return null;
  }

  private static String exampleRequest(String name, String method, Input input, Map<String, SignatureDef> signatures) {
    String key = signatureName(name);
    String kind = method.substring(method.lastIndexOf('/') + 1);
    SignatureDef sig = signatures.get(key);
    if (sig == null) {
      return kind + " request for signature '" + key + "', which the model does not have (has "
          + new TreeSet<>(signatures.keySet()) + ")";
    }
    if (!sig.getMethodName().equals(method)) {
      return kind + " request for signature '" + key + "' of method '" + sig.getMethodName() + "' (needs " + method + ")";
    }
    int examples =
        switch (input.getKindCase()) {
          case EXAMPLE_LIST -> input.getExampleList().getExamplesCount();
          case EXAMPLE_LIST_WITH_CONTEXT -> input.getExampleListWithContext().getExamplesCount();
          case KIND_NOT_SET -> 0;
        };
    if (examples == 0) {
      return kind + " request to '" + key + "' without examples (TensorFlow Serving: \"Input is empty\")";
    }
    return null;
  }

  private static String multiInference(MultiInferenceRequest r, Map<String, SignatureDef> signatures) {
    if (r.getTasksCount() == 0) {
      return "multi_inference request without tasks";
    }
    for (InferenceTask t : r.getTasksList()) {
      if (!t.getMethodName().equals(Signatures.CLASSIFY_METHOD) && !t.getMethodName().equals(Inspection.REGRESS_METHOD)) {
        return "multi_inference task of method '" + t.getMethodName() + "' (classify or regress only)";
      }
      String problem = exampleRequest(t.getModelSpec().getSignatureName(), t.getMethodName(), r.getInput(), signatures);
      if (problem != null) {
        return "multi_inference: " + problem;
      }
    }
    return null;
  }

  /** What is wrong with {@code t} as a value for {@code info}, or null. */
  static String tensor(TensorProto t, TensorInfo info) {
    if (t.getDtype() != info.getDtype()) {
      return "a " + t.getDtype() + " tensor; the signature takes " + info.getDtype();
    }
    TensorShapeProto shape = t.getTensorShape();
    if (shape.getUnknownRank()) {
      return "a tensor of unknown rank";
    }
    long n = 1;
    for (TensorShapeProto.Dim d : shape.getDimList()) {
      if (d.getSize() < 0) {
        return "a tensor of shape " + Inspection.shape(shape) + " (negative dimension)";
      }
      n = d.getSize() == 0 || n == 0 ? 0 : Math.multiplyExact(n, d.getSize());
    }
    TensorShapeProto want = info.getTensorShape();
    if (!want.getUnknownRank()) {
      boolean fits = want.getDimCount() == shape.getDimCount();
      for (int i = 0; fits && i < want.getDimCount(); i++) {
        long w = want.getDim(i).getSize();
        fits = w < 0 || w == shape.getDim(i).getSize();
      }
      if (!fits) {
        return "shape " + Inspection.shape(shape) + "; the signature takes " + Inspection.shape(want);
      }
    }
    int each = VariablesCheck.fixedSize(t.getDtype());
    if (!t.getTensorContent().isEmpty()) {
      if (each < 0 || t.getTensorContent().size() != n * each) {
        return t.getTensorContent().size() + " bytes of tensor_content for " + n + " " + t.getDtype() + " values";
      }
      return null;
    }
    long values = valueCount(t);
    // TensorFlow fills a tensor from fewer values (repeating the last), never from more.
    if (values > n) {
      return values + " values for a tensor of " + n;
    }
    return null;
  }

  /** The number of values in the typed repeated field of {@code t}'s dtype. */
  private static long valueCount(TensorProto t) {
    return switch (t.getDtype()) {
      case DT_FLOAT -> t.getFloatValCount();
      case DT_DOUBLE -> t.getDoubleValCount();
      case DT_INT32, DT_INT16, DT_INT8, DT_UINT8, DT_UINT16, DT_QINT8, DT_QUINT8, DT_QINT16, DT_QUINT16, DT_QINT32 ->
          t.getIntValCount();
      case DT_INT64 -> t.getInt64ValCount();
      case DT_UINT32 -> t.getUint32ValCount();
      case DT_UINT64 -> t.getUint64ValCount();
      case DT_BOOL -> t.getBoolValCount();
      case DT_STRING -> t.getStringValCount();
      case DT_HALF, DT_BFLOAT16 -> t.getHalfValCount();
      case DT_COMPLEX64 -> t.getScomplexValCount() / 2;
      case DT_COMPLEX128 -> t.getDcomplexValCount() / 2;
      default -> 0;
    };
  }
}
