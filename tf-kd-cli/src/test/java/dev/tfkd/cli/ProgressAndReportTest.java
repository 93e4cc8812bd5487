package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.metrics.Calibration;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.run.RunReport;
import dev.tfkd.training.TrainingListener;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressAndReportTest {
  @TempDir Path dir;

  private static void feed(Progress p, int steps) {
    for (int s = 0; s < steps; s++) {
      p.onStep(new TrainingListener.StepMetrics(0, s, steps, s, 32, 1e-3f, 1.5f, 0.5f, 1.0f, 0.5f));
    }
    p.onEpoch(new TrainingListener.EpochMetrics(0, 1.5, 0.5, 1.0, 2.0, 0.5, 1e-3, steps, new Evaluation(100, 0.75, 0.6, Double.NaN, Double.NaN)));
  }

  @Test
  void terminalShowsABarRedrawnInPlace() {
    StringWriter w = new StringWriter();
    feed(new Progress(new PrintWriter(w), "student", 3, true, 10), 5);
    String s = w.toString();
    assertTrue(s.contains("\r"), s);
    assertTrue(s.contains("[========================] 5/5"), s);
    assertTrue(s.contains("samples/s  loss 1.5000 (hard 0.5000, soft 1.0000)"), s);
    assertTrue(s.contains("student epoch 1/3 done in 0:02: loss 1.5000 (hard 0.5000, soft 1.0000), train accuracy 0.5000, validation accuracy 0.7500"), s);
  }

  @Test
  void plainOutputHasNoControlCharactersAndOneLinePerEpoch() {
    StringWriter w = new StringWriter();
    // Interval 0: a periodic line after every step but the last.
    feed(new Progress(new PrintWriter(w), "teacher", 1, false, 0), 4);
    String s = w.toString();
    assertFalse(s.contains("\r") || s.contains("\033"), s);
    List<String> lines = s.lines().toList();
    assertEquals(4, lines.size(), s);
    // After the first step nothing is timed yet (it includes one-off set-up).
    assertTrue(lines.get(0).startsWith("teacher epoch 1/1 1/4  ETA -:--  - samples/s  loss 1.5000"), lines.get(0));
    assertTrue(lines.get(1).matches("teacher epoch 1/1 2/4  ETA \\d+:\\d\\d  \\d+ samples/s .*"), lines.get(1));
    assertTrue(lines.get(3).startsWith("teacher epoch 1/1 done"), lines.get(3));
    assertEquals("1:01:01", Progress.clock(3661));
  }

  @Test
  void reportMarksOmittedClassesAndLinksEveryPlot() throws Exception {
    // Four classes; class 2 was omitted from training, class 3 has no test examples.
    int k = 4;
    int[] labels = {0, 0, 1, 1, 2, 2, 0, 1};
    float[] logits = new float[labels.length * k];
    for (int i = 0; i < labels.length; i++) {
      logits[i * k + (i % 3 == 0 ? labels[i] : (labels[i] + 1) % k)] = 2f + i * 0.3f;
    }
    Dataset test = new Dataset("t", new float[labels.length], labels, new long[] {1}, k, null);
    double[] perClass = Calibration.perClassAccuracy(logits, test);
    assertTrue(Double.isNaN(perClass[3]));
    List<TrainingListener.EpochMetrics> h = new ArrayList<>();
    for (int e = 0; e < 5; e++) {
      h.add(
          new TrainingListener.EpochMetrics(
              e, 2.0 / (e + 1), 1.0 / (e + 1), 1.0 / (e + 1), 1, 0.5 + e * 0.1, 1e-3, 10L * (e + 1),
              new Evaluation(8, 0.4 + e * 0.1, 1.2 / (e + 1), Double.NaN, Double.NaN)));
    }
    Path page =
        RunReport.write(
            dir,
            new RunReport.Inputs(
                "test <report>", h, new double[] {0.9, 0.7, 0.6, 0.55, 0.5},
                Calibration.reliability(logits, test, 10), perClass, new int[] {10, 10, 0, 10},
                List.of(new RunReport.Row("student", 8, 0.5, 0.9, 0.1, 123)), "model: \"mlp\""));
    String html = Files.readString(page);
    assertTrue(html.contains("test &lt;report&gt;"), html);
    for (String img : new String[] {"losses.png", "accuracy.png", "teacher_cmi.png", "reliability.png", "per_class_accuracy.png"}) {
      assertTrue(html.contains("src=\"" + img + "\""), img);
      BufferedImage image = ImageIO.read(dir.resolve(img).toFile());
      assertEquals(900, image.getWidth());
      assertEquals(480, image.getHeight());
    }
    var chart = RunReport.perClass(perClass, new int[] {10, 10, 0, 10});
    assertTrue(chart.getSeriesMap().containsKey("* omitted from training"));
    assertTrue(chart.getSeriesMap().get("* omitted from training").getXData().contains("2 *"));
    assertTrue(chart.getSeriesMap().get("classes seen in training").getXData().contains("3 (no test data)"));
  }
}
