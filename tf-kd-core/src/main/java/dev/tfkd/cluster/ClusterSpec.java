package dev.tfkd.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.ClusterDef;
import org.tensorflow.proto.JobDef;

/**
 * The tasks of a TensorFlow cluster for synchronous data-parallel training: parameter servers ({@code ps}), which
 * hold the variables, and workers ({@code worker}), which each compute one replica of the forward and backward
 * pass. Worker 0 is the chief: the process that builds the graph, opens the session on its own server, feeds the
 * data and writes the checkpoints.
 *
 * @param ps the parameter servers' {@code host:port} addresses, in task order (at least one)
 * @param workers the workers' {@code host:port} addresses, in task order (at least one; the first is the chief)
 */
public record ClusterSpec(List<String> ps, List<String> workers) {
  /** The job holding the variables. */
  public static final String PS = "ps";
  /** The job computing the replicas; its task 0 is the chief. */
  public static final String WORKER = "worker";

  /** Validates the addresses; throws IllegalArgumentException naming the first bad one. */
  public ClusterSpec {
    ps = List.copyOf(ps);
    workers = List.copyOf(workers);
    if (ps.isEmpty()) {
      throw new IllegalArgumentException("a cluster needs a job \"ps\" with at least one task");
    }
    if (workers.isEmpty()) {
      throw new IllegalArgumentException("a cluster needs a job \"worker\" with at least one task");
    }
    Set<String> seen = new HashSet<>();
    for (String a : concat(ps, workers)) {
      port(a);
      if (!seen.add(a)) {
        throw new IllegalArgumentException("cluster address " + a + " is given to two tasks");
      }
    }
  }

  /**
   * A cluster from its jobs by name; only {@value #PS} and {@value #WORKER} are known.
   *
   * @param jobs task addresses by job name
   * @return the cluster
   */
  public static ClusterSpec of(Map<String, List<String>> jobs) {
    for (String name : jobs.keySet()) {
      if (!name.equals(PS) && !name.equals(WORKER)) {
        throw new IllegalArgumentException("unknown cluster job \"" + name + "\": expected \"ps\" and \"worker\"");
      }
    }
    return new ClusterSpec(jobs.getOrDefault(PS, List.of()), jobs.getOrDefault(WORKER, List.of()));
  }

  /**
   * The addresses of {@code job}'s tasks.
   *
   * @param job {@value #PS} or {@value #WORKER}
   * @return the addresses, in task order
   */
  public List<String> tasks(String job) {
    return switch (job) {
      case PS -> ps;
      case WORKER -> workers;
      default -> throw new IllegalArgumentException("unknown cluster job \"" + job + "\": expected ps or worker");
    };
  }

  /**
   * The address of one task.
   *
   * @param job {@value #PS} or {@value #WORKER}
   * @param index the task's index in its job
   * @return its {@code host:port}
   */
  public String address(String job, int index) {
    List<String> t = tasks(job);
    if (index < 0 || index >= t.size()) {
      throw new IllegalArgumentException(
          "job " + job + " has tasks 0 to " + (t.size() - 1) + "; there is no task " + index);
    }
    return t.get(index);
  }

  /** The chief's session target: {@code grpc://} and worker 0's address. */
  public String chiefTarget() {
    return "grpc://" + workers.get(0);
  }

  /** TensorFlow's name for task {@code index} of {@code job}: {@code /job:JOB/replica:0/task:INDEX}. */
  public static String device(String job, int index) {
    return "/job:" + job + "/replica:0/task:" + index;
  }

  /** The cluster as TensorFlow's {@code ClusterDef}. */
  public ClusterDef toClusterDef() {
    ClusterDef.Builder b = ClusterDef.newBuilder();
    for (String job : List.of(PS, WORKER)) {
      JobDef.Builder j = JobDef.newBuilder().setName(job);
      List<String> t = tasks(job);
      for (int i = 0; i < t.size(); i++) {
        j.putTasks(i, t.get(i));
      }
      b.addJob(j);
    }
    return b.build();
  }

  /**
   * Checks that every task's host is on a loopback or private network: TensorFlow's gRPC server listens on every
   * interface without TLS or authentication, so anyone who reaches a port can run any op in the task's process.
   *
   * @throws IllegalArgumentException naming the first address that resolves to a public (or unresolvable) host
   */
  public void requirePrivate() {
    for (String a : concat(ps, workers)) {
      String host = host(a);
      InetAddress[] all;
      try {
        all = InetAddress.getAllByName(host);
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("cluster address " + a + ": unknown host " + host);
      }
      for (InetAddress ip : all) {
        if (!isPrivate(ip)) {
          throw new IllegalArgumentException(
              "cluster address " + a + " (" + ip.getHostAddress() + ") is not on a loopback or private network: "
                  + "TensorFlow's gRPC server has no TLS and no authentication; to run on it anyway, pass "
                  + "--allow-public-network");
        }
      }
    }
  }

  /** Whether {@code ip} is a loopback, link-local, RFC 1918 or IPv6 unique-local address. */
  static boolean isPrivate(InetAddress ip) {
    if (ip.isLoopbackAddress() || ip.isSiteLocalAddress() || ip.isLinkLocalAddress()) {
      return true;
    }
    byte[] b = ip.getAddress();
    // fc00::/7, IPv6 unique local addresses (Java's isSiteLocalAddress covers only the deprecated fec0::/10).
    return b.length == 16 && (b[0] & 0xfe) == 0xfc;
  }

  /**
   * The first task of {@code job} that accepts no TCP connection within {@code timeoutMs}.
   *
   * @param job {@value #PS} or {@value #WORKER}
   * @param timeoutMs how long to wait for each task
   * @return {@code /job:JOB/task:I at ADDRESS}, or empty when every task answers
   */
  public Optional<String> firstUnreachable(String job, int timeoutMs) {
    List<String> t = tasks(job);
    for (int i = 0; i < t.size(); i++) {
      if (!reachable(t.get(i), timeoutMs)) {
        return Optional.of("/job:" + job + "/task:" + i + " at " + t.get(i));
      }
    }
    return Optional.empty();
  }

  private static boolean reachable(String address, int timeoutMs) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host(address), port(address)), timeoutMs);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static String host(String address) {
    int colon = address.lastIndexOf(':');
    String h = address.substring(0, colon);
    // [::1]:2222
    return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
  }

  static int port(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("cluster address '" + address + "' is not host:port");
    }
    try {
      int p = Integer.parseInt(address.substring(colon + 1));
      if (p >= 1 && p <= 65535) {
        return p;
      }
    } catch (NumberFormatException ignored) {
      // Falls through to the message below.
    }
    throw new IllegalArgumentException("cluster address '" + address + "' has no port in [1, 65535]");
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
