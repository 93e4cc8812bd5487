package dev.tfkd.models;

import static dev.tfkd.testing.Assertions.assertAllClose;

import dev.tfkd.bench.RandomData;
import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.losses.Kl;
import dev.tfkd.testing.Assertions;
import dev.tfkd.training.Distillation;
import dev.tfkd.training.FrozenTeacher;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TeacherLogitCache;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CIFAR benchmark pair (ResNet-32x4 teacher, ResNet-8x4 student, batch normalisation in both) distilled with
 * the teacher's logits cached and with the teacher online gives the same student: the cache changes speed only.
 */
class CifarPairCacheTest {
  @TempDir Path work;

  private static Architecture zoo(String name) {
    // No fallback: a zoo that cannot build these is a failure, not a reason to skip.
    return Models.create(name, new long[] {32, 32, 3}, 100);
  }

  @Test
  void cacheOnAndOffGiveTheSameStudent() {
    Architecture student = zoo("resnet8x4");
    FrozenTeacher teacher = FrozenTeacher.initial(zoo("resnet32x4"), 3);
    Dataset images = RandomData.normal(40, new long[] {32, 32, 3}, 100, 5);
    Distillation kd = new Distillation(0.1f, 0.9f, new Kl(4f));
    TrainConfig cfg = new TrainConfig(1, 16, OptimizerConfig.adam(1e-3f), 7, 1);
    float[] cached = TeacherLogitCache.inMemory().logits(teacher, images, 40, Trainer.sessionConfig(1));
    TrainedModel withCache = new Trainer(cfg, List.of()).train(student, images, kd, cached, work);
    TrainedModel online = new Trainer(cfg, List.of()).trainOnline(student, images, kd, teacher, work);
    try (InferenceModel a = withCache.load(Trainer.sessionConfig(1));
        InferenceModel b = online.load(Trainer.sessionConfig(1))) {
      assertAllClose(b.logits(images), a.logits(images), Assertions.EXACT);
    }
  }
}
