package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.losses.Kl;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.op.Ops;

class TrainerTest {
  @TempDir Path work;

  private final GaussianMixture mixture = new GaussianMixture(4, 6, 1.5, 42);
  private final Dataset train = mixture.sample(1000, 1, "train");
  private final Dataset test = mixture.sample(500, 2, "test");

  private static TrainConfig config(int epochs, long seed) {
    return new TrainConfig(epochs, 64, OptimizerConfig.adam(1e-2f), seed, 1);
  }

  @Test
  void crossEntropyTrainingLearnsAndLossFalls() {
    List<TrainingListener.EpochMetrics> epochs = new ArrayList<>();
    TrainingListener collect =
        new TrainingListener() {
          @Override
          public void onEpoch(EpochMetrics e) {
            epochs.add(e);
          }
        };
    TrainedModel model =
        new Trainer(config(8, 3), List.of(collect)).train(new TinyMlp(6, 32, 4), train, new CrossEntropy(), null, work);
    assertTrue(epochs.get(7).total() < epochs.get(0).total() * 0.8, "loss did not fall: " + epochs);
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      double acc = Metrics.evaluate(m.logits(test), test).accuracy();
      assertTrue(acc > 0.7, "accuracy " + acc);
    }
  }

  @Test
  void distillationMovesStudentTowardsTeacherAndUsesOnlyStudentVariables() {
    TrainedModel teacher =
        new Trainer(config(10, 1), List.of()).train(new TinyMlp(6, 64, 4), train, new CrossEntropy(), null, work);
    float[] teacherTrain;
    float[] teacherTest;
    try (InferenceModel t = teacher.load(Trainer.sessionConfig(1))) {
      teacherTrain = t.logits(train);
      teacherTest = t.logits(test);
    }
    Distillation kdOnly = new Distillation(0f, 1f, new Kl(4f));
    TinyMlp studentArch = new TinyMlp(6, 8, 4);
    TrainedModel student1 = new Trainer(config(1, 5), List.of()).train(studentArch, train, kdOnly, teacherTrain, work);
    TrainedModel student10 = new Trainer(config(10, 5), List.of()).train(studentArch, train, kdOnly, teacherTrain, work);
    double kl1, kl10;
    try (InferenceModel s1 = student1.load(Trainer.sessionConfig(1));
        InferenceModel s10 = student10.load(Trainer.sessionConfig(1))) {
      kl1 = meanKl(teacherTest, s1.logits(test), 4);
      kl10 = meanKl(teacherTest, s10.logits(test), 4);
    }
    assertTrue(kl10 < kl1 * 0.7, "KL to teacher " + kl1 + " -> " + kl10);
    // The student checkpoint holds student variables and optimizer state only: restoring it into the student's
    // inference graph works, and its trainable count is the student's own.
    assertEquals(6 * 8 + 8 + 8 * 4 + 4, student10.trainableParameters());
  }

  @Test
  void gradientListNamesExactlyTheGivenVariables() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var vars = new dev.tfkd.graph.TrainingVariables(1);
      var x = tf.placeholder(org.tensorflow.types.TFloat32.class);
      var logits = new TinyMlp(3, 4, 2).build(tf, x, vars, dev.tfkd.graph.Architecture.Mode.TRAINING).logits();
      // A frozen "teacher" variable in the same graph must not be in the list.
      tf.withName("teacher_w").variable(tf.constant(new float[] {1f, 2f}));
      var loss = dev.tfkd.losses.SoftmaxOps.mean(tf, logits);
      var grads = TrainingGraph.gradients(tf, loss, vars.trainable());
      assertEquals(4, grads.size());
      List<String> names = new ArrayList<>();
      vars.trainable().forEach(v -> names.add(v.op().name()));
      assertEquals(List.of("w1", "b1", "w2", "b2"), names);
      int variables = 0;
      for (var it = g.operations(); it.hasNext(); ) {
        GraphOperation op = it.next();
        if (op.type().equals("VariableV2")) {
          variables++;
        }
      }
      assertEquals(5, variables);
    }
  }

  @Test
  void nanInDataIsRefusedBeforeTrainingNamingTheExample() {
    float[] x = train.features().clone();
    x[0] = Float.NaN;
    Dataset bad = new Dataset("bad", x, train.labels(), train.exampleShape(), 4, null);
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Trainer(config(1, 1), List.of()).train(new TinyMlp(6, 8, 4), bad, new CrossEntropy(), null, work));
    assertTrue(e.getMessage().contains("bad") && e.getMessage().contains("example 0"), e.getMessage());
  }

  @Test
  void sameSeedOneThreadGivesIdenticalModels() {
    TrainedModel a = new Trainer(config(2, 9), List.of()).train(new TinyMlp(6, 16, 4), train, new CrossEntropy(), null, work);
    TrainedModel b = new Trainer(config(2, 9), List.of()).train(new TinyMlp(6, 16, 4), train, new CrossEntropy(), null, work);
    try (InferenceModel ma = a.load(Trainer.sessionConfig(1));
        InferenceModel mb = b.load(Trainer.sessionConfig(1))) {
      assertAllClose(mb.logits(test), ma.logits(test), Assertions.EXACT);
    }
  }

  @Test
  void rejectsShapeAndClassMismatch() {
    Trainer t = new Trainer(config(1, 1), List.of());
    var e1 = assertThrows(IllegalArgumentException.class, () -> t.train(new TinyMlp(5, 8, 4), train, new CrossEntropy(), null, work));
    assertTrue(e1.getMessage().contains("shape"), e1.getMessage());
    var e2 = assertThrows(IllegalArgumentException.class, () -> t.train(new TinyMlp(6, 8, 3), train, new CrossEntropy(), null, work));
    assertTrue(e2.getMessage().contains("classes"), e2.getMessage());
  }

  /** Mean T^2 KL(softmax(t/T) || softmax(s/T)) in float64. */
  private static double meanKl(float[] t, float[] s, int k) {
    int n = t.length / k;
    double total = 0;
    double[] lp = new double[k];
    double[] lq = new double[k];
    float[] ts = new float[k];
    float[] ss = new float[k];
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < k; c++) {
        ts[c] = t[i * k + c] / 4f;
        ss[c] = s[i * k + c] / 4f;
      }
      Metrics.logSoftmax(ts, 0, k, lp);
      Metrics.logSoftmax(ss, 0, k, lq);
      for (int c = 0; c < k; c++) {
        total += Math.exp(lp[c]) * (lp[c] - lq[c]);
      }
    }
    return total / n;
  }
}
