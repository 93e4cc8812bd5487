package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.io.TfRecord;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.Int64List;

/**
 * Distillation on streamed TFRecord shards (and teacher training on a streamed IDX file), killed with SIGKILL in the middle of an epoch that began in the middle
 * of a pass over the data, then resumed with {@code --resume}: it ends exactly like an uninterrupted streamed run
 * (one thread), step by step. The checkpoint carries the stream's position (shard, offset, shuffle buffer); the
 * teacher's logits come from the run's on-disk cache, filled before the kill and found again on resume.
 */
class StreamKillAndResumeTest {
  @TempDir Path dir;

  /** gmm's training split (20,000 examples of 20 values, 10 classes) as four TFRecord shards. */
  static String writeShards(Path folder) throws Exception {
    Dataset d = DataSources.load("gmm", null, DataSources.Split.TRAIN);
    Files.createDirectories(folder);
    int shards = 4;
    int e = d.exampleSize();
    for (int s = 0; s < shards; s++) {
      Path f = folder.resolve(String.format(Locale.ROOT, "gmm-%05d-of-%05d.tfrecord", s, shards));
      try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(f))) {
        for (int i = s * d.size() / shards; i < (s + 1) * d.size() / shards; i++) {
          FloatList.Builder v = FloatList.newBuilder();
          for (int j = 0; j < e; j++) {
            v.addValue(d.features()[i * e + j]);
          }
          Example ex =
              Example.newBuilder()
                  .setFeatures(
                      Features.newBuilder()
                          .putFeature("x", Feature.newBuilder().setFloatList(v).build())
                          .putFeature("y", Feature.newBuilder().setInt64List(Int64List.newBuilder().addValue(d.labels()[i])).build()))
                  .build();
          TfRecord.write(o, ex.toByteArray());
        }
      }
    }
    return folder.resolve("gmm-*.tfrecord").toString();
  }

  private static String[] distill(String train, Path runDir) {
    return new String[] {
      "distill", "--teacher", TestTeacher.path().toString(), "--train", train, "--test", "gmm", "--model", "mlp:16",
      "--threads", "1", "--seed", "5", "--batch-size", "40", "--epochs", "4", "--steps-per-epoch", "60",
      "--shuffle-buffer", "700", "--run-dir", runDir.toString()
    };
  }

  @Test
  void killedStreamedRunResumesExactly() throws Exception {
    String train = writeShards(dir.resolve("data"));
    Path killed = dir.resolve("killed");
    // 60 steps of 40 per epoch: the first checkpoint stands 2,400 records into the first pass of 20,000.
    KillAndResumeTest.runAndKill(killed, dir.resolve("child.log"), 60, 25, distill(train, killed));
    assertEquals("epoch-0001", Files.readString(killed.resolve("checkpoints/latest")).strip());
    assertFalse(Files.exists(killed.resolve("results.json")), "the run finished before the kill");
    String state = Files.readString(killed.resolve("checkpoints/epoch-0001/state.pbtxt"));
    assertTrue(state.contains("stream {") && state.contains("drawn_in_pass: 2400"), state);

    DemoCommandTest.Run resumed = DemoCommandTest.tfkd("distill", "--resume", killed.toString());
    assertEquals(0, resumed.code(), resumed.err());
    assertTrue(resumed.out().contains("(streamed) (20000 examples"), resumed.out());

    Path whole = dir.resolve("whole");
    DemoCommandTest.Run uninterrupted = DemoCommandTest.tfkd(distill(train, whole));
    assertEquals(0, uninterrupted.code(), uninterrupted.err());

    assertEquals(DistillCommandTest.figures(whole), DistillCommandTest.figures(killed));
    assertEquals(
        Files.readAllLines(whole.resolve("metrics/steps.jsonl")),
        Files.readAllLines(killed.resolve("metrics/steps.jsonl")));
    assertEquals(
        KillAndResumeTest.withoutTimes(Files.readAllLines(whole.resolve("metrics/epochs.jsonl"))),
        KillAndResumeTest.withoutTimes(Files.readAllLines(killed.resolve("metrics/epochs.jsonl"))));
    try (var s = Files.list(killed.resolve("teacher-logits"))) {
      assertEquals(1, s.filter(p -> p.toString().endsWith(".logits")).count());
    }
  }

  /** {@code d} as an uncompressed IDX pair {@code prefix-images-idx3-ubyte} / {@code prefix-labels-idx1-ubyte}. */
  static Path writeIdx(Dataset d, Path folder, String prefix) throws Exception {
    Files.createDirectories(folder);
    long[] shape = d.exampleShape();
    byte[] px = new byte[d.features().length];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) Math.round(Math.min(1f, Math.max(0f, d.features()[i])) * 255f);
    }
    byte[] labels = new byte[d.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = (byte) d.labels()[i];
    }
    dev.tfkd.data.io.TestFiles.idx(folder.resolve(prefix + "-labels-idx1-ubyte"), new int[] {d.size()}, labels, false);
    return dev.tfkd.data.io.TestFiles.idx(
        folder.resolve(prefix + "-images-idx3-ubyte"), new int[] {d.size(), (int) shape[0], (int) shape[1]}, px, false);
  }

  private static String[] trainTeacher(String train, String test, Path runDir) {
    return new String[] {
      "train-teacher", "--train", train, "--stream", "--test", test, "--model", "mlp:16", "--threads", "1", "--seed", "5",
      "--batch-size", "40", "--epochs", "4", "--steps-per-epoch", "60", "--shuffle-buffer", "700", "--run-dir",
      runDir.toString()
    };
  }

  /**
   * The same for a streamed IDX file (fixed-size records read by offset): killed in the middle of its second epoch,
   * resumed, it ends step by step like the uninterrupted streamed run.
   */
  @Test
  void killedStreamedIdxRunResumesExactly() throws Exception {
    Path data = dir.resolve("idx");
    String train = writeIdx(DataSources.load("shapes28", null, DataSources.Split.TRAIN), data, "train").toString();
    String test = writeIdx(DataSources.load("shapes28", null, DataSources.Split.TEST), data, "t10k").toString();
    Path killed = dir.resolve("killed-idx");
    KillAndResumeTest.runAndKill(killed, dir.resolve("child-idx.log"), 60, 25, trainTeacher(train, test, killed));
    assertFalse(Files.exists(killed.resolve("results.json")), "the run finished before the kill");
    String latest = Files.readString(killed.resolve("checkpoints/latest")).strip();
    String state = Files.readString(killed.resolve("checkpoints/" + latest + "/state.pbtxt"));
    assertTrue(state.contains("stream {") && state.contains("buffer_index"), state);

    DemoCommandTest.Run resumed = DemoCommandTest.tfkd("train-teacher", "--resume", killed.toString());
    assertEquals(0, resumed.code(), resumed.err());
    assertTrue(resumed.out().contains("(streamed)"), resumed.out());

    Path whole = dir.resolve("whole-idx");
    DemoCommandTest.Run uninterrupted = DemoCommandTest.tfkd(trainTeacher(train, test, whole));
    assertEquals(0, uninterrupted.code(), uninterrupted.err());

    assertEquals(DistillCommandTest.figures(whole), DistillCommandTest.figures(killed));
    assertEquals(
        Files.readAllLines(whole.resolve("metrics/steps.jsonl")),
        Files.readAllLines(killed.resolve("metrics/steps.jsonl")));
    assertEquals(
        KillAndResumeTest.withoutTimes(Files.readAllLines(whole.resolve("metrics/epochs.jsonl"))),
        KillAndResumeTest.withoutTimes(Files.readAllLines(killed.resolve("metrics/epochs.jsonl"))));
  }
}
