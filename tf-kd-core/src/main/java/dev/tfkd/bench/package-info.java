/**
 * Throughput and memory measurement: the timing protocol shared with the peer benchmarks ({@link
 * dev.tfkd.bench.Protocol}, {@link dev.tfkd.bench.StepTimer}), resident memory ({@link dev.tfkd.bench.Rss}), the
 * matrix-multiply ceiling ({@link dev.tfkd.bench.MatmulCeiling}) and random benchmark data ({@link
 * dev.tfkd.bench.RandomData}). The {@code tfkd bench} command drives them.
 *
 * <p>Not API: exported only to {@code dev.tfkd.models} and {@code dev.tfkd.cli} (see {@code module-info.java}).
 */
package dev.tfkd.bench;
