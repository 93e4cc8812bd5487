package dev.tfkd.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import org.junit.jupiter.api.Test;

class TeacherNearChanceTest {
  @Test
  void aTeacherNearChanceOnTheTrainingDataIsWarnedAbout() {
    // Four examples of four classes; logits pick class 0 every time (accuracy 0.25 = chance), then the label.
    Dataset train = new Dataset("t", new float[4], new int[] {0, 1, 2, 3}, new long[] {1}, 4, null);
    float[] constant = new float[16];
    float[] right = new float[16];
    for (int i = 0; i < 4; i++) {
      constant[i * 4] = 1;
      right[i * 4 + i] = 1;
    }
    String w = Distiller.nearChance(constant, train);
    assertTrue(w.contains("0.250, near chance (0.250)") && w.contains("--teacher-preprocess"), w);
    assertEquals("", Distiller.nearChance(right, train));
  }
}
