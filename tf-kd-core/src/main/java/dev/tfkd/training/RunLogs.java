package dev.tfkd.training;

import dev.tfkd.io.AtomicFiles;
import dev.tfkd.io.EventFileWriter;
import dev.tfkd.io.Json;
import dev.tfkd.metrics.Evaluation;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Logs a run's metrics in a run directory: {@code metrics/steps.jsonl} (one JSON object per step),
 * {@code metrics/epochs.jsonl} (one per epoch) and TensorBoard event files in {@code tensorboard/} (scalars
 * {@code loss/total}, {@code loss/hard}, {@code loss/soft}, {@code accuracy/train}, {@code learning_rate} per step;
 * {@code epoch/...} (with {@code epoch/cmi}, the training CMI) and {@code validation/...} (with
 * {@code validation/ece} and {@code validation/cmi}) per epoch, at the epoch's last global step).
 *
 * <p>Logs are flushed to disk at the end of every epoch. On resume, the JSON-lines files are cut back to the
 * checkpoint (what a killed run logged after it is written again by the resumed run), and a new event file starts
 * with a restart marker at the checkpoint's step. Owns its files; close it.
 */
public final class RunLogs implements TrainingListener, AutoCloseable {
  private final Path stepsFile;
  private final Path epochsFile;
  private final Path tensorboardDir;
  private BufferedWriter steps;
  private BufferedWriter epochs;
  private EventFileWriter events;

  /** Opens (creating or appending to) the logs under {@code runDir}. */
  public RunLogs(Path runDir) throws IOException {
    Path metrics = runDir.resolve("metrics");
    Files.createDirectories(metrics);
    this.stepsFile = metrics.resolve("steps.jsonl");
    this.epochsFile = metrics.resolve("epochs.jsonl");
    this.tensorboardDir = runDir.resolve("tensorboard");
    openJsonLines();
    events =
        EventFileWriter.create(
            tensorboardDir, host(), ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime()));
  }

  /**
   * The per-epoch log.
   *
   * @return the file
   */
  public Path epochsFile() {
    return epochsFile;
  }

  /**
   * The per-step log.
   *
   * @return the file
   */
  public Path stepsFile() {
    return stepsFile;
  }

  /**
   * The TensorBoard event directory.
   *
   * @return the directory
   */
  public Path tensorboardDir() {
    return tensorboardDir;
  }

  private void openJsonLines() throws IOException {
    steps = Files.newBufferedWriter(stepsFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    epochs = Files.newBufferedWriter(epochsFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  @Override
  public void onResume(List<EpochMetrics> history) {
    try {
      steps.close();
      epochs.close();
      long step = history.isEmpty() ? 0 : history.get(history.size() - 1).globalStep();
      List<String> kept = new ArrayList<>();
      if (Files.exists(stepsFile)) {
        for (String line : Files.readAllLines(stepsFile, StandardCharsets.UTF_8)) {
          // A torn last line, or a step after the checkpoint, goes.
          Long s = globalStepOf(line);
          if (s != null && s < step) {
            kept.add(line);
          }
        }
      }
      AtomicFiles.writeString(stepsFile, kept.isEmpty() ? "" : String.join("\n", kept) + "\n");
      StringBuilder eb = new StringBuilder();
      history.forEach(e -> eb.append(epochLine(e)).append('\n'));
      AtomicFiles.writeString(epochsFile, eb.toString());
      openJsonLines();
      events.restart(step);
      if (!history.isEmpty()) {
        // A run killed between its checkpoint and logging that epoch never wrote the epoch's scalars.
        epochScalars(history.get(history.size() - 1));
      }
      events.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Long globalStepOf(String line) {
    if (!line.startsWith("{") || !line.endsWith("}")) {
      return null;
    }
    int i = line.indexOf("\"global_step\":");
    if (i < 0) {
      return null;
    }
    int from = i + "\"global_step\":".length();
    int to = from;
    while (to < line.length() && Character.isDigit(line.charAt(to))) {
      to++;
    }
    return to == from ? null : Long.parseLong(line.substring(from, to));
  }

  @Override
  public void onStep(StepMetrics s) {
    try {
      steps.write(
          Json.object()
              .put("global_step", s.globalStep())
              .put("epoch", s.epoch())
              .put("step", s.step())
              .put("examples", s.examples())
              .put("learning_rate", s.learningRate())
              .put("loss_total", s.total())
              .put("loss_hard", s.hard())
              .put("loss_soft", s.soft())
              .put("accuracy", s.accuracy())
              .toString());
      steps.newLine();
      // Step numbers in TensorBoard count completed steps, from 1.
      long step = s.globalStep() + 1;
      events.scalar("loss/total", step, s.total());
      events.scalar("loss/hard", step, s.hard());
      events.scalar("loss/soft", step, s.soft());
      events.scalar("accuracy/train", step, s.accuracy());
      events.scalar("learning_rate", step, s.learningRate());
      if (s.step() == s.stepsPerEpoch() - 1) {
        // Before the epoch's checkpoint: a run killed after it must not lose the epoch's steps in a buffer.
        flush();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void onEpoch(EpochMetrics e) {
    try {
      epochs.write(epochLine(e));
      epochs.newLine();
      epochScalars(e);
      flush();
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  private void epochScalars(EpochMetrics e) throws IOException {
    long step = e.globalStep();
    events.scalar("epoch/loss_total", step, e.total());
    events.scalar("epoch/loss_hard", step, e.hard());
    events.scalar("epoch/loss_soft", step, e.soft());
    events.scalar("epoch/accuracy", step, e.accuracy());
    if (Double.isFinite(e.trainCmi())) {
      events.scalar("epoch/cmi", step, e.trainCmi());
    }
    Evaluation v = e.validation();
    if (v != null) {
      events.scalar("validation/loss", step, v.nll());
      events.scalar("validation/accuracy", step, v.accuracy());
      if (Double.isFinite(v.klToPosterior())) {
        events.scalar("validation/kl_to_posterior", step, v.klToPosterior());
      }
      if (Double.isFinite(v.ece())) {
        events.scalar("validation/ece", step, v.ece());
      }
      if (Double.isFinite(v.cmi())) {
        events.scalar("validation/cmi", step, v.cmi());
      }
    }
  }

  /** The JSON line of one epoch. */
  public static String epochLine(EpochMetrics e) {
    Json.Members j =
        Json.object()
            .put("epoch", e.epoch())
            .put("global_step", e.globalStep())
            .put("loss_total", e.total())
            .put("loss_hard", e.hard())
            .put("loss_soft", e.soft())
            .put("accuracy", e.accuracy())
            .put("learning_rate", e.learningRate())
            .put("cmi", e.trainCmi())
            .put("seconds", e.seconds());
    Evaluation v = e.validation();
    if (v != null) {
      j.put("val_examples", v.examples())
          .put("val_loss", v.nll())
          .put("val_accuracy", v.accuracy())
          .put("val_kl_to_posterior", v.klToPosterior())
          .put("val_ece", v.ece())
          .put("val_cmi", v.cmi());
    }
    return j.toString();
  }

  private void flush() throws IOException {
    steps.flush();
    epochs.flush();
    events.flush();
  }

  private static String host() {
    try {
      String h = java.net.InetAddress.getLocalHost().getHostName();
      return h.replaceAll("[^A-Za-z0-9._-]", "_");
    } catch (IOException e) {
      return "localhost";
    }
  }

  @Override
  public void close() throws IOException {
    try (BufferedWriter s = steps;
        BufferedWriter e = epochs;
        EventFileWriter ev = events) {
      s.flush();
      e.flush();
    }
  }
}
