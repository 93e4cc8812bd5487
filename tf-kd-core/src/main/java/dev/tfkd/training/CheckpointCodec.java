package dev.tfkd.training;

import dev.tfkd.data.io.StreamPosition;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.training.checkpoint.EpochRecord;
import dev.tfkd.training.checkpoint.HookValues;
import dev.tfkd.training.checkpoint.StreamState;
import dev.tfkd.training.checkpoint.TrainerState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts between the trainer's state (epoch figures, position, hook state) and the checkpoint messages of {@code
 * checkpoint.proto}. A hook's values are named {@code INDEX/NAME} by the hook's position, so two hooks may use the
 * same names.
 */
final class CheckpointCodec {
  private CheckpointCodec() {}

  /** The state after {@code history} at {@code globalStep}, with every hook's checkpoint state. */
  static TrainerState state(
      String architecture, long seed, List<TrainingListener.EpochMetrics> history, long globalStep, List<TrainingHook> hooks) {
    TrainerState.Builder b =
        TrainerState.newBuilder()
            .setArchitecture(architecture)
            .setSeed(seed)
            .setEpochsDone(history.size())
            .setGlobalStep(globalStep);
    history.forEach(e -> b.addHistory(toRecord(e)));
    for (int i = 0; i < hooks.size(); i++) {
      for (var v : hooks.get(i).checkpointState().entrySet()) {
        HookValues.Builder hv = HookValues.newBuilder().setName(i + "/" + v.getKey());
        for (double d : v.getValue()) {
          hv.addValues(d);
        }
        b.addHookState(hv);
      }
    }
    return b.build();
  }

  /** Gives every hook the values {@link #state} saved for it. */
  static void restoreHooks(TrainerState state, List<TrainingHook> hooks) {
    for (int i = 0; i < hooks.size(); i++) {
      Map<String, double[]> hs = new HashMap<>();
      String prefix = i + "/";
      for (HookValues hv : state.getHookStateList()) {
        if (hv.getName().startsWith(prefix)) {
          hs.put(hv.getName().substring(prefix.length()), hv.getValuesList().stream().mapToDouble(Double::doubleValue).toArray());
        }
      }
      hooks.get(i).restoreState(hs);
    }
  }

  /** {@code p} as saved in a checkpoint, with what identifies the stream it belongs to. */
  static StreamState stream(StreamPosition p, TrainStream stream) {
    StreamState.Builder b =
        StreamState.newBuilder()
            .setPass(p.pass())
            .setShardCursor(p.shardCursor())
            .setOffset(p.offset())
            .setRecord(p.record())
            .setDrawnInPass(p.drawnInPass())
            .setRngState(p.rngState())
            .setBufferCapacity(stream.shuffleBuffer())
            .setShardsFingerprint(stream.shards().fingerprint());
    for (int i = 0; i < p.bufferIndex().length; i++) {
      b.addBufferIndex(p.bufferIndex()[i]).addBufferOffset(p.bufferOffset()[i]);
    }
    return b.build();
  }

  /**
   * The position a checkpoint saved, checked against the run's stream.
   *
   * @throws IllegalArgumentException when the checkpoint belongs to other data or another shuffle buffer
   */
  static StreamPosition position(StreamState s, TrainStream stream) {
    if (!s.getShardsFingerprint().equals(stream.shards().fingerprint())) {
      throw new IllegalArgumentException(
          "the checkpoint's stream was over other shards than " + stream.shards().name()
              + " (names, sizes or record counts differ): resume with the same data");
    }
    if (s.getBufferCapacity() != stream.shuffleBuffer()) {
      throw new IllegalArgumentException(
          "the checkpoint's stream used a shuffle buffer of " + s.getBufferCapacity() + " records, this run "
              + stream.shuffleBuffer() + ": resume with the same shuffle buffer");
    }
    return new StreamPosition(
        s.getPass(), s.getShardCursor(), s.getOffset(), s.getRecord(), s.getDrawnInPass(), s.getRngState(),
        s.getBufferIndexList().stream().mapToLong(Long::longValue).toArray(),
        s.getBufferOffsetList().stream().mapToLong(Long::longValue).toArray());
  }

  static EpochRecord toRecord(TrainingListener.EpochMetrics e) {
    Evaluation v = e.validation();
    return EpochRecord.newBuilder()
        .setEpoch(e.epoch())
        .setGlobalStep(e.globalStep())
        .setTotal(e.total())
        .setHard(e.hard())
        .setSoft(e.soft())
        .setAccuracy(e.accuracy())
        .setLearningRate(e.learningRate())
        .setSeconds(e.seconds())
        .setValExamples(v == null ? 0 : v.examples())
        .setValLoss(v == null ? Double.NaN : v.nll())
        .setValAccuracy(v == null ? Double.NaN : v.accuracy())
        .setValKlToPosterior(v == null ? Double.NaN : v.klToPosterior())
        .setValBcpdError(v == null ? Double.NaN : v.bcpdError())
        .setValEce(v == null ? Double.NaN : v.ece())
        .setValCmi(v == null ? Double.NaN : v.cmi())
        .setTrainCmi(e.trainCmi())
        .addAllValPerClassAccuracy(v == null ? List.of() : Arrays.stream(v.perClassAccuracy()).boxed().toList())
        .build();
  }

  /** The epoch figures a checkpoint holds, in order. */
  static List<TrainingListener.EpochMetrics> history(TrainerState state) {
    List<TrainingListener.EpochMetrics> out = new ArrayList<>();
    for (EpochRecord r : state.getHistoryList()) {
      Evaluation v =
          r.getValExamples() == 0
              ? null
              : new Evaluation(
                  r.getValExamples(), r.getValAccuracy(), r.getValLoss(), r.getValKlToPosterior(),
                  r.getValBcpdError(),
                  r.getValPerClassAccuracyList().stream().mapToDouble(Double::doubleValue).toArray(),
                  r.getValEce(), r.getValCmi());
      out.add(
          new TrainingListener.EpochMetrics(
              r.getEpoch(), r.getTotal(), r.getHard(), r.getSoft(), r.getSeconds(), r.getAccuracy(),
              r.getLearningRate(), r.getGlobalStep(), v, r.hasTrainCmi() ? r.getTrainCmi() : Double.NaN));
    }
    return out;
  }
}
