package dev.tfkd.cli;

import dev.tfkd.cluster.ClusterSpec;
import dev.tfkd.cluster.TaskServer;
import dev.tfkd.config.RunConfigs;
import dev.tfkd.training.SessionSettings;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tfkd task}: runs one task of a cluster (a parameter server or a worker other than the chief) until the
 * process is killed. TensorFlow Java cannot shut a started server down cleanly, so a task ends only by exiting.
 */
@Command(
    name = "task",
    mixinStandardHelpOptions = true,
    description = {
      "Run one task of a TensorFlow cluster for 'train-teacher --cluster' or 'distill --cluster' until killed.",
      "Job ps holds the variables; job worker computes one replica each; worker 0 is the chief, the training command itself.",
      "The task's gRPC port is open on every network interface without TLS or authentication: run tasks only on a"
          + " private network. Addresses outside loopback and private networks are refused without --allow-public-network.",
      "A worker that is killed and started again rejoins the run; a parameter server that dies stops it (continue with --resume)."
    },
    footer = {
      "",
      "Example (cluster.pbtxt):",
      "  job { name: \"ps\" tasks: \"127.0.0.1:2222\" }",
      "  job { name: \"worker\" tasks: \"127.0.0.1:2223\" tasks: \"127.0.0.1:2224\" }",
      "  tfkd task --cluster cluster.pbtxt --job ps --index 0 &",
      "  tfkd task --cluster cluster.pbtxt --job worker --index 1 &",
      "  tfkd train-teacher --cluster cluster.pbtxt --train mnist.idx --model mlp:256",
      "",
      "Exit codes: runs until killed; 2 bad usage or bad input."
    })
final class TaskCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--cluster", required = true, paramLabel = "FILE", description = "The cluster: tfkd.ClusterConfig in text format, or a run configuration with a cluster block.")
  Path cluster;

  @Option(names = "--job", required = true, description = "ps or worker.")
  String job;

  @Option(names = "--index", required = true, description = "The task's index in its job (worker 0 is the chief: the training command).")
  int index;

  @Option(names = "--threads", description = "TensorFlow threads of the task's kernels, 0 to 256; 0 = all cores (default: 0).")
  int threads;

  @Option(names = "--allow-public-network", description = "Start even if a task's address is outside loopback and private networks.")
  boolean allowPublicNetwork;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    ClusterSpec c = RunConfigs.cluster(RunConfigs.readCluster(cluster));
    if (job.equals(ClusterSpec.WORKER) && index == 0) {
      throw new IllegalArgumentException(
          "worker 0 is the chief: run 'tfkd train-teacher --cluster' or 'tfkd distill --cluster' for it");
    }
    SessionSettings.checkThreads("--threads", threads);
    String warning = TaskServer.start(c, job, index, allowPublicNetwork, SessionSettings.ofThreads(threads).toConfigProto());
    err.println("tfkd task: warning: " + warning);
    spec.commandLine().getOut().println("task /job:" + job + "/task:" + index + " running at " + c.address(job, index) + "; stop it by killing the process");
    spec.commandLine().getOut().flush();
    err.flush();
    // The server runs on TensorFlow's threads; this thread only keeps the process alive until it is killed.
    while (true) {
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
