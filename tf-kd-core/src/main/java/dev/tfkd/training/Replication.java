package dev.tfkd.training;

import dev.tfkd.cluster.ClusterSpec;
import dev.tfkd.cluster.RemoteSession;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.proto.ConfigProto;

/**
 * Where the replicas of a synchronous data-parallel training step run (in-graph replication): one graph holds the
 * variables on the variable devices, one copy of the forward and backward pass per replica device, each on its
 * share of the global batch, and one update from the gradients averaged with the shares' sizes as weights. With the
 * same seed and global batch the result equals one device's up to float rounding, for objectives that average a
 * per-example loss over the batch. Batch-normalisation statistics are each replica's own (its share of the batch),
 * and the moving averages are updated from replica 0's.
 *
 * @param replicaDevices one device per replica (TensorFlow device names); empty: no replication
 * @param variableDevices where the variables live, spread over these by size
 * @param cpuDevices virtual CPU devices to create in the session (0: TensorFlow's default)
 * @param cluster the cluster the session runs on, or {@code null} for a session in this process
 */
public record Replication(
    List<String> replicaDevices, List<String> variableDevices, int cpuDevices, ClusterSpec cluster) {
  /** How long one session call on a cluster may wait (a task that died makes it fail instead of hang). */
  static final long OPERATION_TIMEOUT_MS = Long.getLong("tfkd.cluster.operationTimeoutMs", 300_000);

  /** One device, no replication: the ordinary training graph. */
  public static final Replication NONE = new Replication(List.of(), List.of(), 0, null);

  /** Validates the devices; throws IllegalArgumentException for replicas without variable devices. */
  public Replication {
    replicaDevices = List.copyOf(replicaDevices);
    variableDevices = List.copyOf(variableDevices);
    if (!replicaDevices.isEmpty() && variableDevices.isEmpty()) {
      throw new IllegalArgumentException("replicas need at least one variable device");
    }
    if (cpuDevices < 0) {
      throw new IllegalArgumentException("cpuDevices must be >= 0, got " + cpuDevices);
    }
  }

  /**
   * Replicas on {@code n} CPU devices of this process (virtual devices sharing the process's cores; the same
   * mechanism places replicas on GPUs), variables on the first. {@code n = 1} is no replication.
   *
   * @param n the number of devices, 1 to 64
   * @return the replication
   */
  public static Replication devices(int n) {
    if (n < 1 || n > 64) {
      throw new IllegalArgumentException("devices must be in [1, 64], got " + n);
    }
    if (n == 1) {
      return NONE;
    }
    List<String> devices = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      devices.add("/device:CPU:" + i);
    }
    return new Replication(devices, List.of("/device:CPU:0"), n, null);
  }

  /**
   * Replicas on the cluster's workers, one each, variables on its parameter servers; the session is opened on the
   * chief's (worker 0's) server, which must be running in this process or reachable.
   *
   * @param cluster the cluster
   * @return the replication
   */
  public static Replication cluster(ClusterSpec cluster) {
    List<String> workers = new ArrayList<>();
    for (int i = 0; i < cluster.workers().size(); i++) {
      workers.add(ClusterSpec.device(ClusterSpec.WORKER, i));
    }
    List<String> ps = new ArrayList<>();
    for (int i = 0; i < cluster.ps().size(); i++) {
      ps.add(ClusterSpec.device(ClusterSpec.PS, i));
    }
    return new Replication(workers, ps, 0, cluster);
  }

  /** Whether the training graph is replicated. */
  public boolean replicated() {
    return !replicaDevices.isEmpty();
  }

  /** The number of replicas (1 without replication). */
  public int replicas() {
    return Math.max(1, replicaDevices.size());
  }

  /**
   * Opens the training session on {@code graph}: in this process, or on the chief's target (then the graph's
   * initializers are run here, as a local session runs them by itself).
   */
  Session open(Graph graph, ConfigProto base) {
    ConfigProto config = cpuDevices > 1 ? base.toBuilder().putDeviceCount("CPU", cpuDevices).build() : base;
    if (cluster == null) {
      return new Session(graph, config);
    }
    if (config.getOperationTimeoutInMs() == 0) {
      // A step that waits on a task that died fails after this long instead of hanging the run.
      config = config.toBuilder().setOperationTimeoutInMs(OPERATION_TIMEOUT_MS).build();
    }
    // Every session starts from the initial values (and then the checkpoint, when resuming): nothing of an earlier
    // run or attempt stays on the parameter servers.
    RemoteSession.resetVariables(cluster.chiefTarget());
    Session s = RemoteSession.open(graph, cluster.chiefTarget(), config);
    try {
      s.initialize();
      return s;
    } catch (RuntimeException e) {
      closeQuietly(s, e);
      throw e;
    }
  }

  /** A training graph and its session, released as {@link Resources#close} says. */
  Resources resources() {
    return new Resources(this);
  }

  /**
   * The graph and session of one training attempt. Closed normally after a success and always in this process;
   * after a failure on a cluster they are closed on a background thread instead, because closing a session whose
   * parameter server died waits for that task without end (TensorFlow retries the unreachable task), and a graph
   * cannot close before its sessions.
   */
  static final class Resources implements AutoCloseable {
    private final Replication replication;
    private final Graph graph = new Graph();
    private Session session;
    private boolean succeeded;

    private Resources(Replication replication) {
      this.replication = replication;
    }

    Graph graph() {
      return graph;
    }

    Session open(ConfigProto config) {
      session = replication.open(graph, config);
      return session;
    }

    void succeeded() {
      succeeded = true;
    }

    @Override
    public void close() {
      if (succeeded || replication.cluster() == null) {
        try {
          if (session != null) {
            session.close();
          }
        } finally {
          graph.close();
        }
        return;
      }
      Session s = session;
      Thread t =
          new Thread(
              () -> {
                try {
                  if (s != null) {
                    s.close();
                  }
                  graph.close();
                } catch (RuntimeException ignored) {
                  // Nothing is waiting for this: the run has moved on (or stopped) without these resources.
                }
              },
              "tfkd-release-failed-cluster-session");
      t.setDaemon(true);
      t.start();
    }
  }

  static void closeQuietly(Session s, RuntimeException cause) {
    try {
      s.close();
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  @Override
  public String toString() {
    if (!replicated()) {
      return "one device";
    }
    return cluster != null
        ? replicaDevices.size() + " workers, " + variableDevices.size() + " parameter servers"
        : replicaDevices.size() + " CPU devices";
  }
}
