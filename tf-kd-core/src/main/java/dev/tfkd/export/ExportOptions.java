package dev.tfkd.export;

import dev.tfkd.data.Dataset;
import java.util.List;

/**
 * What the exporter writes beside the SavedModel in each version directory.
 *
 * @param manifest the provenance manifest to write as {@value Manifest#FILE}, or {@code null} for none
 * @param warmupData examples for TensorFlow Serving's warm-up records, or {@code null} for none
 * @param warmupRequests how many warm-up requests to write per signature and batch size (each one batch of examples
 *     taken in order from {@code warmupData}, wrapping around); 0 for none
 * @param warmupBatchSizes the batch sizes to warm up, each at least 1, without repeats: for every size,
 *     {@code warmupRequests} predict requests to {@code serving_default} and as many classify requests to
 *     {@code classify}; in all at most {@value WarmupRecords#MAX_RECORDS} records (TensorFlow Serving refuses more)
 * @param files more files written into the version directory before it is published, by path relative to it
 *     (e.g. {@code evaluation.json}); copied
 * @param allowSignatureChange publish even if the signatures differ from the previous version's
 * @param features add the {@value Signatures#FEATURES_KEY} signature (the model's feature points) and list the
 *     points in the manifest; off by default, leaving {@code saved_model.pb} exactly as without the option
 */
public record ExportOptions(
    Manifest manifest,
    Dataset warmupData,
    int warmupRequests,
    List<Integer> warmupBatchSizes,
    java.util.Map<String, byte[]> files,
    boolean allowSignatureChange,
    boolean features) {
  /** Only the SavedModel. */
  public static final ExportOptions NONE = new ExportOptions(null, null, 0, List.of(1), java.util.Map.of(), false, false);

  /**
   * Validates the options; throws IllegalArgumentException for a warm-up count or batch size outside its bounds, or
   * more records in all than TensorFlow Serving reads.
   */
  public ExportOptions {
    files = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(files));
    warmupBatchSizes = List.copyOf(warmupBatchSizes);
    if (warmupBatchSizes.isEmpty()) {
      throw new IllegalArgumentException("warm-up batch sizes must not be empty");
    }
    for (int b : warmupBatchSizes) {
      if (b < 1) {
        throw new IllegalArgumentException("warm-up batch sizes must be >= 1, got " + b);
      }
    }
    if (warmupBatchSizes.stream().distinct().count() != warmupBatchSizes.size()) {
      throw new IllegalArgumentException("warm-up batch sizes repeat: " + warmupBatchSizes);
    }
    long records = 2L * warmupRequests * warmupBatchSizes.size();
    if (warmupRequests < 0 || records > WarmupRecords.MAX_RECORDS) {
      throw new IllegalArgumentException(
          "warm-up requests (" + warmupRequests + " per signature and batch size, " + warmupBatchSizes.size()
              + " batch sizes, 2 signatures) must be >= 0 and make at most " + WarmupRecords.MAX_RECORDS + " records");
    }
    if (warmupRequests > 0 && (warmupData == null || warmupData.size() == 0)) {
      throw new IllegalArgumentException("warm-up requests need warm-up data");
    }
  }

  /** Without the {@value Signatures#FEATURES_KEY} signature. */
  public ExportOptions(
      Manifest manifest,
      Dataset warmupData,
      int warmupRequests,
      List<Integer> warmupBatchSizes,
      java.util.Map<String, byte[]> files,
      boolean allowSignatureChange) {
    this(manifest, warmupData, warmupRequests, warmupBatchSizes, files, allowSignatureChange, false);
  }

  /** With a manifest. */
  public static ExportOptions withManifest(Manifest manifest) {
    return new ExportOptions(manifest, null, 0, List.of(1), java.util.Map.of(), false, false);
  }

  /** A copy with {@code requests} warm-up requests per signature of {@code batch} examples from {@code data}. */
  public ExportOptions withWarmup(Dataset data, int requests, int batch) {
    return withWarmup(data, requests, List.of(batch));
  }

  /** A copy with {@code requests} warm-up requests per signature and batch size, from {@code data}. */
  public ExportOptions withWarmup(Dataset data, int requests, List<Integer> batchSizes) {
    return new ExportOptions(manifest, data, requests, batchSizes, files, allowSignatureChange, features);
  }

  /**
   * A copy that also writes {@code bytes} as {@code path} inside the version directory, before it is published.
   *
   * @param path relative to the version directory, e.g. {@code evaluation.json}
   * @param bytes the file's content
   * @return a copy
   */
  public ExportOptions withFile(String path, byte[] bytes) {
    java.util.Map<String, byte[]> f = new java.util.TreeMap<>(files);
    f.put(path, bytes.clone());
    return new ExportOptions(manifest, warmupData, warmupRequests, warmupBatchSizes, f, allowSignatureChange, features);
  }

  /**
   * A copy that publishes (or refuses) a version whose signatures differ from the previous version's.
   *
   * @param allow whether to publish such a version
   * @return a copy
   */
  public ExportOptions withSignatureChange(boolean allow) {
    return new ExportOptions(manifest, warmupData, warmupRequests, warmupBatchSizes, files, allow, features);
  }

  /**
   * A copy that adds (or leaves out) the {@value Signatures#FEATURES_KEY} signature.
   *
   * @param features whether the export carries the model's feature points
   * @return a copy
   */
  public ExportOptions withFeatures(boolean features) {
    return new ExportOptions(manifest, warmupData, warmupRequests, warmupBatchSizes, files, allowSignatureChange, features);
  }
}
