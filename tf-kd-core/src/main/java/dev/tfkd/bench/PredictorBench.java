package dev.tfkd.bench;

import dev.tfkd.export.Predictor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A {@link Predictor} inside a long-running application, measured: {@code clients} threads share one predictor and
 * call {@link Predictor#predict(float[], int)} with batches of each size until {@code predictions} examples have been
 * predicted at that size. Reports predictions per second and the p50 and p99 latency of one call per batch size, and
 * the process's resident memory (native memory included, {@link Rss}) after the warm-up and at the end. A benchmark,
 * not a test: the figures depend on the machine.
 */
public final class PredictorBench {
  private PredictorBench() {}

  /**
   * What to run.
   *
   * @param clients threads calling the predictor at once
   * @param predictions examples predicted per batch size (timed)
   * @param batchSizes the batch sizes, each measured in turn
   * @param warmupPredictions untimed examples per batch size before any measurement
   * @param seed seed of the random-normal inputs
   */
  public record Options(int clients, long predictions, List<Integer> batchSizes, long warmupPredictions, long seed) {
    /** Validates the counts. */
    public Options {
      if (clients < 1 || predictions < 1 || warmupPredictions < 0 || batchSizes.isEmpty()) {
        throw new IllegalArgumentException(
            "clients and predictions must be >= 1 and batch sizes given, got " + clients + ", " + predictions + ", "
                + batchSizes);
      }
      for (int b : batchSizes) {
        if (b < 1) {
          throw new IllegalArgumentException("batch sizes must be >= 1, got " + batchSizes);
        }
      }
      batchSizes = List.copyOf(batchSizes);
    }
  }

  /**
   * The figures of one batch size.
   *
   * @param batch examples per call
   * @param predictions examples predicted
   * @param seconds wall-clock time of the timed part
   * @param perSecond predictions per second over all clients
   * @param p50Ms median latency of one call, milliseconds
   * @param p99Ms 99th-percentile latency of one call, milliseconds
   */
  public record BatchResult(int batch, long predictions, double seconds, double perSecond, double p50Ms, double p99Ms) {}

  /**
   * The whole run.
   *
   * @param results one per batch size, in order
   * @param afterWarmup resident memory once every batch size was warmed up
   * @param atEnd resident memory after the last measurement
   */
  public record Report(List<BatchResult> results, Rss afterWarmup, Rss atEnd) {}

  /**
   * Runs the benchmark on {@code predictor}.
   *
   * @param predictor a loaded predictor (not closed here)
   * @param options what to run
   * @param progress told each batch size's figures as they are measured
   * @return the figures
   * @throws Exception if a prediction fails
   */
  public static Report run(Predictor predictor, Options options, Consumer<BatchResult> progress) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(options.clients());
    try {
      for (int b : options.batchSizes()) {
        measure(predictor, pool, options, b, options.warmupPredictions());
      }
      Rss afterWarmup = Rss.read();
      List<BatchResult> results = new ArrayList<>();
      for (int b : options.batchSizes()) {
        BatchResult r = measure(predictor, pool, options, b, options.predictions());
        results.add(r);
        progress.accept(r);
      }
      return new Report(results, afterWarmup, Rss.read());
    } finally {
      pool.shutdownNow();
    }
  }

  private static BatchResult measure(Predictor p, ExecutorService pool, Options o, int batch, long predictions)
      throws Exception {
    long calls = (predictions + batch - 1) / batch;
    AtomicLong next = new AtomicLong();
    long[] latencies = new long[(int) Math.min(calls, Integer.MAX_VALUE - 8)];
    List<Future<?>> clients = new ArrayList<>();
    long start = System.nanoTime();
    for (int c = 0; c < o.clients(); c++) {
      SplittableRandom random = new SplittableRandom(o.seed() * 31 + c);
      clients.add(
          pool.submit(
              () -> {
                // One input buffer per client, filled once: the calls, not the data, are measured.
                float[] x = new float[batch * p.exampleSize()];
                for (int i = 0; i < x.length; i++) {
                  x[i] = (float) gaussian(random);
                }
                for (long call = next.getAndIncrement(); call < calls; call = next.getAndIncrement()) {
                  long t0 = System.nanoTime();
                  p.predict(x, batch);
                  if (call < latencies.length) {
                    latencies[(int) call] = System.nanoTime() - t0;
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : clients) {
      f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long[] sorted = latencies.clone();
    Arrays.sort(sorted);
    return new BatchResult(
        batch, calls * batch, seconds, calls * batch / seconds, percentile(sorted, 0.50) / 1e6,
        percentile(sorted, 0.99) / 1e6);
  }

  /** The nearest-rank percentile of sorted values. */
  static double percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank))];
  }

  private static double gaussian(SplittableRandom r) {
    // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
    double u = 1 - r.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
  }
}
