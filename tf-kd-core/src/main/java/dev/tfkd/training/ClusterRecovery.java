package dev.tfkd.training;

import dev.tfkd.cluster.ClusterFailureException;
import dev.tfkd.cluster.ClusterSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * What a cluster run does when a step fails: a parameter server that no longer answers stops the run with a
 * {@link ClusterFailureException} (its variables are gone; {@code --resume} continues from the latest
 * checkpoint once it runs again); a worker that failed is waited for (it rejoins when it is started again at its
 * address), and the run then continues from its latest checkpoint in a new session. Workers hold no state: the
 * variables and the optimizer's slots live on the parameter servers and in the chief's checkpoints.
 */
final class ClusterRecovery {
  private static final System.Logger LOG = System.getLogger("dev.tfkd.cluster");
  /** How often a run restarts after worker failures before it gives up. */
  static final int MAX_RESTARTS = 20;
  /** How long a failed worker is waited for, in seconds (system property {@code tfkd.cluster.rejoinSeconds}). */
  static final long REJOIN_SECONDS = Long.getLong("tfkd.cluster.rejoinSeconds", 600);
  private static final int PROBE_MS = 2000;
  private static final Pattern TASK_FAILURE =
      Pattern.compile("(?i)unavailable|socket closed|connection|connect|aborted|not found|deadline|cancelled|recvtensor");

  private ClusterRecovery() {}

  static TrainedModel run(ClusterSpec cluster, Trainer.RunOptions options, Function<Trainer.RunOptions, TrainedModel> attempt) {
    Trainer.RunOptions o = options;
    for (int restarts = 0; ; restarts++) {
      try {
        return attempt.apply(o);
      } catch (TensorFlowException e) {
        String why = reason(e);
        Optional<String> ps = cluster.firstUnreachable(ClusterSpec.PS, PROBE_MS);
        if (ps.isPresent()) {
          throw new ClusterFailureException(
              "parameter server " + ps.get() + " stopped answering and the variables it held are lost; start it "
                  + "again (tfkd task) and continue the run with --resume from its latest checkpoint",
              e);
        }
        Optional<String> worker = cluster.firstUnreachable(ClusterSpec.WORKER, PROBE_MS);
        if (worker.isEmpty() && !TASK_FAILURE.matcher(why).find()) {
          throw e;
        }
        if (restarts >= MAX_RESTARTS) {
          throw new ClusterFailureException(
              "the cluster failed " + (restarts + 1) + " times (last: " + why + "); continue with --resume", e);
        }
        String who = worker.orElse("a worker");
        LOG.log(
            System.Logger.Level.WARNING,
            // A worker the probe cannot reach has stopped answering; TensorFlow's own lines above say how.
            (worker.isPresent() ? who + " stopped answering" : who + " failed (" + why + ")") + "; waiting up to "
                + REJOIN_SECONDS + " s for it to rejoin, then continuing from the latest checkpoint");
        awaitWorkers(cluster, who, e);
        o = new Trainer.RunOptions(o.validation(), o.checkpoints(), o.everyEpoch(), o.resume() || hasCheckpoint(o));
      }
    }
  }

  /**
   * What failed, in one line: TensorFlow's messages from a remote task start with a blank line, a rule of '=' and a
   * "From /job:..." line; the line with the status code (e.g. {@code UNAVAILABLE: Connection reset by peer}) says
   * it, else the first line with a word in it.
   */
  static String reason(TensorFlowException e) {
    if (e.getMessage() == null) {
      return e.toString();
    }
    List<String> lines = e.getMessage().lines().map(String::strip).toList();
    return lines.stream().filter(l -> l.matches("[A-Z_]{4,}: .*")).findFirst()
        .or(() -> lines.stream().filter(l -> l.matches(".*[A-Za-z]{2}.*")).findFirst())
        .orElse(e.toString());
  }

  private static void awaitWorkers(ClusterSpec cluster, String who, TensorFlowException cause) {
    long deadline = System.nanoTime() + REJOIN_SECONDS * 1_000_000_000L;
    while (cluster.firstUnreachable(ClusterSpec.WORKER, PROBE_MS).isPresent()) {
      if (System.nanoTime() > deadline) {
        throw new ClusterFailureException(
            who + " did not come back within " + REJOIN_SECONDS + " s; start it again (tfkd task) and continue the "
                + "run with --resume",
            cause);
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new ClusterFailureException("interrupted while waiting for " + who + " to rejoin", cause);
      }
    }
  }

  private static boolean hasCheckpoint(Trainer.RunOptions o) {
    try {
      return o.checkpoints().latest().isPresent();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
