package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.cluster.ClusterSpec;
import dev.tfkd.cluster.TaskServer;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tfkd task}, {@code --cluster} and {@code --devices} on the command line (loopback only). */
class ClusterCommandsTest {
  @TempDir Path dir;

  private Path clusterFile(String ps, String... workers) throws Exception {
    StringBuilder b = new StringBuilder("job { name: \"ps\" tasks: \"" + ps + "\" }\njob { name: \"worker\"");
    for (String w : workers) {
      b.append(" tasks: \"").append(w).append('"');
    }
    Path f = dir.resolve("cluster.pbtxt");
    Files.writeString(f, b.append(" }\n").toString());
    return f;
  }

  private static String freeAddress() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return "127.0.0.1:" + s.getLocalPort();
    }
  }

  @Test
  void taskRefusesTheChiefsIndexPublicAddressesAndBadFilesWithOneLine() throws Exception {
    Path f = clusterFile("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3");
    var chief = DistillCommandTest.tfkd("task", "--cluster", f.toString(), "--job", "worker", "--index", "0");
    assertEquals(2, chief.code(), chief.err());
    assertTrue(chief.err().contains("worker 0 is the chief"), chief.err());
    assertEquals(1, chief.err().strip().lines().count(), chief.err());

    var missing = DistillCommandTest.tfkd("task", "--cluster", f.toString(), "--job", "ps", "--index", "1");
    assertEquals(2, missing.code(), missing.err());
    assertTrue(missing.err().contains("no task 1"), missing.err());

    Path pub = clusterFile("8.8.8.8:2222", "127.0.0.1:2", "127.0.0.1:3");
    var open = DistillCommandTest.tfkd("task", "--cluster", pub.toString(), "--job", "worker", "--index", "1");
    assertEquals(2, open.code(), open.err());
    assertTrue(open.err().contains("8.8.8.8:2222") && open.err().contains("--allow-public-network"), open.err());

    Path bad = dir.resolve("bad.pbtxt");
    Files.writeString(bad, "job { name: \"chief\" tasks: \"127.0.0.1:1\" }\n");
    var unknown = DistillCommandTest.tfkd("task", "--cluster", bad.toString(), "--job", "ps", "--index", "0");
    assertEquals(2, unknown.code(), unknown.err());
    assertTrue(unknown.err().contains("unknown cluster job \"chief\""), unknown.err());
  }

  @Test
  void devicesOutOfRangeNameTheFlag() {
    var r = DistillCommandTest.tfkd(
        "train-teacher", "--train", "gmm", "--model", "mlp:8", "--epochs", "1", "--devices", "65", "--run-dir",
        dir.resolve("run").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--devices must be in [0, 64], got 65"), r.err());
  }

  @Test
  void trainTeacherOnTwoDevicesRecordsThemInTheRunConfig() throws Exception {
    Path run = dir.resolve("devices");
    var r = DistillCommandTest.tfkd(
        "train-teacher", "--train", "gmm", "--model", "mlp:8", "--epochs", "1", "--threads", "1", "--devices", "2",
        "--run-dir", run.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.readString(run.resolve("run_config.pbtxt")).contains("devices: 2"));
  }

  @Test
  void trainTeacherRunsAsTheChiefOfALoopbackCluster() throws Exception {
    String ps = freeAddress();
    String w0 = freeAddress();
    String w1 = freeAddress();
    Path f = clusterFile(ps, w0, w1);
    ClusterSpec spec = new ClusterSpec(java.util.List.of(ps), java.util.List.of(w0, w1));
    TaskServer.start(spec, "ps", 0, false, null);
    TaskServer.start(spec, "worker", 1, false, null);
    Path run = dir.resolve("cluster");
    var r = DistillCommandTest.tfkd(
        "train-teacher", "--train", "gmm", "--model", "mlp:8", "--epochs", "2", "--threads", "1", "--cluster",
        f.toString(), "--run-dir", run.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("serving on port " + w0.substring(w0.indexOf(':') + 1)), r.err());
    assertTrue(r.err().contains("run tasks only on a private network"), r.err());
    String saved = Files.readString(run.resolve("run_config.pbtxt"));
    assertTrue(saved.contains("tasks: \"" + w1 + "\""), saved);
  }
}
