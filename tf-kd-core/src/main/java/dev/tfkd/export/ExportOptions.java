package dev.tfkd.export;

import dev.tfkd.data.Dataset;

/**
 * What the exporter writes beside the SavedModel in each version directory.
 *
 * @param manifest the provenance manifest to write as {@value Manifest#FILE}, or {@code null} for none
 * @param warmupData examples for TensorFlow Serving's warm-up records, or {@code null} for none
 * @param warmupRequests how many warm-up requests to write (each one batch of {@code warmupBatch} examples taken in
 *     order from {@code warmupData}, wrapping around); 0 for none, at most {@value WarmupRecords#MAX_RECORDS}
 * @param warmupBatch examples per warm-up request
 * @param files more files written into the version directory before it is published, by path relative to it
 *     (e.g. {@code evaluation.json}); copied
 * @param allowSignatureChange publish even if the signatures differ from the previous version's
 */
public record ExportOptions(
    Manifest manifest,
    Dataset warmupData,
    int warmupRequests,
    int warmupBatch,
    java.util.Map<String, byte[]> files,
    boolean allowSignatureChange) {
  /** Only the SavedModel. */
  public static final ExportOptions NONE = new ExportOptions(null, null, 0, 1, java.util.Map.of(), false);

  /**
   * Validates the options; throws IllegalArgumentException for a warm-up count outside its bounds or a batch below 1.
   */
  public ExportOptions {
    files = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(files));
    if (warmupRequests < 0 || warmupRequests > WarmupRecords.MAX_RECORDS) {
      throw new IllegalArgumentException(
          "warm-up requests must be in [0, " + WarmupRecords.MAX_RECORDS + "], got " + warmupRequests);
    }
    if (warmupBatch < 1) {
      throw new IllegalArgumentException("warm-up batch must be >= 1, got " + warmupBatch);
    }
    if (warmupRequests > 0 && (warmupData == null || warmupData.size() == 0)) {
      throw new IllegalArgumentException("warm-up requests need warm-up data");
    }
  }

  /** With a manifest. */
  public static ExportOptions withManifest(Manifest manifest) {
    return new ExportOptions(manifest, null, 0, 1, java.util.Map.of(), false);
  }

  /** A copy with {@code requests} warm-up requests of {@code batch} examples from {@code data}. */
  public ExportOptions withWarmup(Dataset data, int requests, int batch) {
    return new ExportOptions(manifest, data, requests, batch, files, allowSignatureChange);
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
    return new ExportOptions(manifest, warmupData, warmupRequests, warmupBatch, f, allowSignatureChange);
  }

  /**
   * A copy that publishes (or refuses) a version whose signatures differ from the previous version's.
   *
   * @param allow whether to publish such a version
   * @return a copy
   */
  public ExportOptions withSignatureChange(boolean allow) {
    return new ExportOptions(manifest, warmupData, warmupRequests, warmupBatch, files, allow);
  }
}
