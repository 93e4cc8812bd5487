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
 */
public record ExportOptions(Manifest manifest, Dataset warmupData, int warmupRequests, int warmupBatch) {
  /** Only the SavedModel. */
  public static final ExportOptions NONE = new ExportOptions(null, null, 0, 1);

  /**
   * Validates the options; throws IllegalArgumentException for a warm-up count outside its bounds or a batch below 1.
   */
  public ExportOptions {
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
    return new ExportOptions(manifest, null, 0, 1);
  }

  /** A copy with {@code requests} warm-up requests of {@code batch} examples from {@code data}. */
  public ExportOptions withWarmup(Dataset data, int requests, int batch) {
    return new ExportOptions(manifest, data, requests, batch);
  }
}
