package dev.tfkd.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.features.FeatureLoss;
import dev.tfkd.features.FeatureLosses;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.TrainingVariables;
import dev.tfkd.training.FeatureInputs;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * ReviewKD and VID on the CIFAR-100 teacher/student pairs of the reference tables, 32x32x3 inputs: the loss builds
 * on the zoo's feature points (student and teacher widths differ) and every adapter variable receives a gradient;
 * for ResNet-8x4 from ResNet-32x4 one batch of two gives a finite value.
 */
class ReviewKdVidZooTest {

  @ParameterizedTest(name = "{0} from {1}")
  @CsvSource({"resnet8x4, resnet32x4", "wrn_16_2, wrn_40_2", "resnet20, resnet56", "vgg8, vgg13"})
  void buildsOnZooPairsAndReachesEveryAdapter(String studentName, String teacherName) {
    Architecture student = Models.create(studentName, new long[] {32, 32, 3}, 100);
    Architecture teacher = Models.create(teacherName, new long[] {32, 32, 3}, 100);
    for (String spec : List.of("reviewkd", "vid")) {
      try (Graph g = new Graph()) {
        Ops tf = Ops.create(g);
        Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 32, 32, 3)));
        Forward s = student.build(tf, x, new TrainingVariables(1), Architecture.Mode.TRAINING);
        Forward t = teacher.build(tf.withSubScope("teacher"), x, new TrainingVariables(2), Architecture.Mode.INFERENCE);
        Map<String, Operand<TFloat32>> teacherPoints = new HashMap<>();
        t.features().forEach((k, v) -> teacherPoints.put(k, tf.stopGradient(v)));
        TrainingVariables adapters = new TrainingVariables(3);
        FeatureLoss loss = FeatureLosses.parse(spec);
        Operand<TFloat32> value =
            loss.loss(tf, new FeatureInputs(s.features(), teacherPoints, adapters, tf.constant(4f)), "a_");
        assertEquals(0, value.shape().numDimensions(), spec);
        List<Variable<TFloat32>> vars = adapters.trainable();
        assertTrue(vars.size() >= (spec.equals("vid") ? 4 : 7), spec + ": " + vars.size() + " adapter variables");
        Gradients grads = tf.gradients(value, vars);
        for (int i = 0; i < vars.size(); i++) {
          assertTrue(grads.dy(i) != null && !grads.dy(i).isClosed(), spec + ": no gradient for " + vars.get(i).op().name());
        }
        if (studentName.equals("resnet8x4")) {
          // The reference modules' parameter counts for this pair (mid = 256; teacher widths 64/128/256/256):
          // ABF = conv1 in*mid + BN 2 mid + conv3x3 9 mid out + BN 2 out (+ attention 2 mid * 2 + 2 where fused);
          // VID = s t + t t + t t convolutions + t variances per stage.
          long count = vars.stream().mapToLong(v -> v.shape().size()).sum();
          assertEquals(spec.equals("vid") ? 258_496L : 1_808_774L, count, spec + " adapter parameters");
        }
        if (!studentName.equals("resnet8x4")) {
          continue; // one pair runs a batch: the others' weights take long to initialise on a 2-core machine
        }
        float[] images = new float[2 * 32 * 32 * 3];
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < images.length; i++) {
          images[i] = (float) rng.nextDouble();
        }
        try (Session session = new Session(g);
            TFloat32 in = dev.tfkd.graph.Tensors.floats(Shape.of(2, 32, 32, 3), images, 0, images.length);
            Result r = session.runner().feed(x, in).fetch(value).run()) {
          float v = ((TFloat32) r.get(0)).getFloat();
          assertTrue(Float.isFinite(v) && v != 0, spec + ": " + v);
        }
      }
    }
  }
}
