package dev.tfkd.cluster;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Server;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.ServerDef;

/**
 * Starts one task of a cluster in this process: TensorFlow's in-process gRPC server for {@code /job:JOB/task:I}.
 *
 * <p>A started server is never stopped: TensorFlow Java's {@code Server.close()} throws on a started server ("Clean
 * shutdown is not currently implemented") and aborts the JVM on one that never started. A task ends when its
 * process exits; the servers started here are kept reachable until then.
 */
public final class TaskServer {
  /** Started servers, kept so that nothing ever collects (and closes) them. */
  private static final List<Server> STARTED = new ArrayList<>();

  private TaskServer() {}

  /**
   * Starts task {@code index} of {@code job} and returns at once; the server runs until the process exits.
   *
   * @param cluster the cluster
   * @param job {@value ClusterSpec#PS} or {@value ClusterSpec#WORKER}
   * @param index the task's index in its job
   * @param allowPublicNetwork start even if a task's address is not on a loopback or private network
   * @param sessionConfig the options of the sessions the task runs (threads), or {@code null} for TensorFlow's
   * @return a one-line warning that the port is open to the network, for the caller to print
   * @throws IllegalArgumentException for a task the cluster does not have or a public address
   */
  public static synchronized String start(
      ClusterSpec cluster, String job, int index, boolean allowPublicNetwork, ConfigProto sessionConfig) {
    String address = cluster.address(job, index);
    if (!allowPublicNetwork) {
      cluster.requirePrivate();
    }
    ServerDef.Builder def =
        ServerDef.newBuilder().setCluster(cluster.toClusterDef()).setJobName(job).setTaskIndex(index).setProtocol("grpc");
    if (sessionConfig != null) {
      def.setDefaultSessionConfig(sessionConfig);
    }
    Server server = new Server(def.build());
    STARTED.add(server);
    server.start();
    return "task /job:" + job + "/task:" + index + " serving on port " + ClusterSpec.port(address)
        + " of every network interface, without TLS or authentication: anyone who reaches the port can run code "
        + "in this process; run tasks only on a private network";
  }
}
