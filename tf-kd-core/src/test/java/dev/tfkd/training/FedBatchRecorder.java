package dev.tfkd.training;

import dev.tfkd.losses.Kl;
import dev.tfkd.losses.LossContext;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Tensor;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Records, step by step, the input batch the training graph was fed and the teacher logits its objective was given:
 * a distillation objective (0.1 CE + 0.9 KL at T = 4) that reads both back, and the hook that fetches them. What
 * tests of online and per-batch teachers compare against the teacher's own answer to that batch.
 */
final class FedBatchRecorder {
  /** The fed input batch of every step, in order. */
  final List<float[]> inputs = new ArrayList<>();

  /** The teacher logits the objective was given at every step, in order. */
  final List<float[]> teacherLogits = new ArrayList<>();

  /** The objective to train with. */
  final Capturing objective = new Capturing();

  /** The hook to train with ({@link TrainingSetup#withHooks}). */
  final TrainingHook hook =
      new TrainingHook() {
        private List<Operand<?>> fetches;

        @Override
        public void onStart(TrainingContext context) {
          fetches = List.of(objective.inputs, objective.teacherLogits);
        }

        @Override
        public List<Operand<?>> fetches() {
          return fetches;
        }

        @Override
        public void afterStep(List<Tensor> fetched) {
          inputs.add(floats(fetched.get(0)));
          teacherLogits.add(floats(fetched.get(1)));
        }
      };

  /** Distillation that keeps readable copies of the fed input batch and of the teacher logits it is given. */
  static final class Capturing implements Objective {
    private final Objective inner = new Distillation(0.1f, 0.9f, new Kl(4f));
    private Operand<TFloat32> teacherLogits;
    private Operand<TFloat32> inputs;

    @Override
    public String describe() {
      return inner.describe();
    }

    @Override
    public boolean needsTeacher() {
      return true;
    }

    @Override
    public LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacher, LossContext context) {
      // A fed placeholder cannot be fetched itself: identities of both are.
      teacherLogits = tf.withName("seen_teacher_logits").identity(teacher);
      Graph graph = (Graph) tf.scope().env();
      inputs = tf.withName("seen_inputs").identity(graph.operation("inputs").<TFloat32>output(0));
      return inner.build(tf, logits, teacher, context);
    }
  }

  private static float[] floats(Tensor t) {
    float[] v = new float[(int) t.shape().size()];
    ((TFloat32) t).asRawTensor().data().asFloats().read(v);
    return v;
  }
}
