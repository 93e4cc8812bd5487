package dev.tfkd.run;

import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Architecture;
import dev.tfkd.training.TrainStream;

/**
 * A run about to take its first step, every check passed: what a front end may announce.
 *
 * @param architecture the model being trained
 * @param train the training data
 * @param objective the objective's description, e.g. {@code ce:0.1 + kl(T=4):0.9}
 * @param resumed whether the run continues from a checkpoint of an earlier start
 * @param teacherOutput how the teacher's output is read ({@link dev.tfkd.teacher.Teacher#outputReading()}), or empty
 * @param stream the streamed training data ({@code train} is then its sample), or {@code null}
 */
public record RunStart(
    Architecture architecture, Dataset train, String objective, boolean resumed, String teacherOutput,
    TrainStream stream) {
  /** A start on data in memory. */
  public RunStart(Architecture architecture, Dataset train, String objective, boolean resumed, String teacherOutput) {
    this(architecture, train, objective, resumed, teacherOutput, null);
  }

  /** The training data's name: a stream's pattern, else the dataset's name. */
  public String trainName() {
    return stream == null ? train.name() : stream.shards().name() + " (streamed)";
  }

  /** Training examples: all of a stream's. */
  public long trainSize() {
    return stream == null ? train.size() : stream.shards().size();
  }

  /** A start without a teacher whose output needs explaining. */
  public RunStart(Architecture architecture, Dataset train, String objective, boolean resumed) {
    this(architecture, train, objective, resumed, "");
  }
}
