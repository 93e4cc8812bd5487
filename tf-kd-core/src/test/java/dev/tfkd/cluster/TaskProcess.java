package dev.tfkd.cluster;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One cluster task in a child JVM, for tests that kill tasks: {@code main(spec, job, index)} starts the task's
 * server and waits until it is killed. {@link #start} launches one and waits until its port answers.
 */
public final class TaskProcess {
  private TaskProcess() {}

  /** {@code ps=a,b;worker=c,d}, as {@link #encode} writes it. */
  public static ClusterSpec decode(String spec) {
    Map<String, List<String>> jobs = new LinkedHashMap<>();
    for (String job : spec.split(";")) {
      String[] kv = job.split("=");
      jobs.put(kv[0], Arrays.asList(kv[1].split(",")));
    }
    return ClusterSpec.of(jobs);
  }

  /** The cluster as one argument. */
  public static String encode(ClusterSpec spec) {
    return "ps=" + String.join(",", spec.ps()) + ";worker=" + String.join(",", spec.workers());
  }

  /** A loopback cluster of {@code ps} parameter servers and {@code workers} workers on free ports. */
  public static ClusterSpec loopback(int ps, int workers) throws IOException {
    List<String> p = new ArrayList<>();
    List<String> w = new ArrayList<>();
    for (int i = 0; i < ps + workers; i++) {
      try (ServerSocket s = new ServerSocket(0)) {
        (i < ps ? p : w).add("127.0.0.1:" + s.getLocalPort());
      }
    }
    return new ClusterSpec(p, w);
  }

  /** Starts the task in a child JVM and waits (at most a minute) until its port answers. */
  public static Process start(ClusterSpec spec, String job, int index, Path log) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(
            java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), TaskProcess.class.getName(), encode(spec), job,
            Integer.toString(index));
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Process p = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!reachable(spec, job, index)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new IllegalStateException("task " + job + ":" + index + " did not start; see " + log);
      }
      Thread.sleep(100);
    }
    return p;
  }

  private static boolean reachable(ClusterSpec spec, String job, int index) {
    try (java.net.Socket s = new java.net.Socket()) {
      String a = spec.address(job, index);
      s.connect(new java.net.InetSocketAddress("127.0.0.1", Integer.parseInt(a.substring(a.lastIndexOf(':') + 1))), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Kills {@code p} and waits for it to be gone. */
  public static void kill(Process p) throws InterruptedException {
    p.destroyForcibly();
    p.waitFor(30, TimeUnit.SECONDS);
  }

  /**
   * Runs one task until killed.
   *
   * @param args cluster, job, index
   */
  public static void main(String[] args) throws InterruptedException {
    System.out.println(TaskServer.start(decode(args[0]), args[1], Integer.parseInt(args[2]), false, null));
    Thread.sleep(Long.MAX_VALUE);
  }
}
