package dev.tfkd.run;

import dev.tfkd.io.AtomicFiles;
import dev.tfkd.metrics.Calibration;
import dev.tfkd.training.TrainingListener.EpochMetrics;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A run's report: {@code report/index.html} with PNG plots (learning curves of the hard, soft and total loss and
 * of accuracy; the teacher's CMI over epochs when the run measured it; a reliability diagram; accuracy per class,
 * classes omitted from the training data marked) and the results table. Plots are drawn with XChart; every file is
 * written atomically. Not thread-safe (AWT rendering).
 */
public final class RunReport {
  private static final int W = 900;
  private static final int H = 480;

  /** One row of the results table. */
  public record Row(String model, int examples, double accuracy, double nll, double ece, long parameters) {}

  /**
   * Everything a report shows.
   *
   * @param title the page heading
   * @param history the run's epochs
   * @param cmi the teacher's conditional mutual information per epoch, or {@code null} when not measured
   * @param reliability the trained model's reliability diagram on the test data, or {@code null}
   * @param perClassAccuracy accuracy per class on the test data (NaN: no test examples), or {@code null}
   * @param trainCounts training examples per class (0 marks a class omitted from training)
   * @param rows the results table
   * @param configText the resolved run configuration
   */
  public record Inputs(
      String title,
      List<EpochMetrics> history,
      double[] cmi,
      Calibration.Reliability reliability,
      double[] perClassAccuracy,
      int[] trainCounts,
      List<Row> rows,
      String configText) {}

  private RunReport() {}

  /**
   * Writes the report into {@code dir} and returns the HTML page.
   *
   * @param dir the report directory, created if absent
   * @param in what the report shows
   * @return {@code dir/index.html}
   * @throws IOException if writing fails
   */
  public static Path write(Path dir, Inputs in) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<String> images = new ArrayList<>();
    if (!in.history().isEmpty()) {
      images.add(save(dir, "losses.png", losses(in.history())));
      images.add(save(dir, "accuracy.png", accuracy(in.history())));
    }
    if (in.cmi() != null && in.cmi().length > 0) {
      images.add(save(dir, "teacher_cmi.png", cmi(in.cmi(), in.history())));
    }
    if (in.reliability() != null) {
      images.add(save(dir, "reliability.png", reliability(in.reliability())));
    }
    if (in.perClassAccuracy() != null) {
      images.add(save(dir, "per_class_accuracy.png", perClass(in.perClassAccuracy(), in.trainCounts())));
    }
    Path page = dir.resolve("index.html");
    AtomicFiles.writeString(page, html(in, images));
    return page;
  }

  private static String save(Path dir, String name, Chart<?, ?> chart) throws IOException {
    AtomicFiles.write(dir.resolve(name), BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    return name;
  }

  private static double[] epochs(List<EpochMetrics> h) {
    return h.stream().mapToDouble(e -> e.epoch() + 1).toArray();
  }

  private static XYChart lineChart(String title, String y) {
    XYChart c = new XYChartBuilder().width(W).height(H).title(title).xAxisTitle("epoch").yAxisTitle(y).build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    c.getStyler().setChartBackgroundColor(Color.WHITE);
    c.getStyler().setPlotGridLinesVisible(true);
    c.getStyler().setXAxisDecimalPattern("0");
    return c;
  }

  static XYChart losses(List<EpochMetrics> h) {
    XYChart c = lineChart("Loss per epoch (training means; validation NLL)", "loss");
    double[] x = epochs(h);
    c.addSeries("total", x, h.stream().mapToDouble(EpochMetrics::total).toArray());
    c.addSeries("hard (labels)", x, h.stream().mapToDouble(EpochMetrics::hard).toArray());
    c.addSeries("soft (teacher / regulariser)", x, h.stream().mapToDouble(EpochMetrics::soft).toArray());
    if (h.stream().allMatch(e -> e.validation() != null)) {
      c.addSeries("validation NLL", x, h.stream().mapToDouble(e -> e.validation().nll()).toArray());
    }
    return c;
  }

  static XYChart accuracy(List<EpochMetrics> h) {
    XYChart c = lineChart("Accuracy per epoch", "accuracy");
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
    double[] x = epochs(h);
    c.addSeries("training", x, h.stream().mapToDouble(EpochMetrics::accuracy).toArray());
    if (h.stream().allMatch(e -> e.validation() != null)) {
      c.addSeries("validation", x, h.stream().mapToDouble(e -> e.validation().accuracy()).toArray());
    }
    return c;
  }

  static XYChart cmi(double[] cmi) {
    return cmi(cmi, List.of());
  }

  /**
   * The CMI per epoch ({@code cmi}, on the validation data), with the training CMI of {@code history} beside it
   * when every epoch of it has one.
   */
  static XYChart cmi(double[] cmi, List<EpochMetrics> history) {
    XYChart c = lineChart("Teacher conditional mutual information per epoch", "CMI (nats)");
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
    double[] x = new double[cmi.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = i + 1;
    }
    c.addSeries("validation", x, cmi);
    if (history.size() == cmi.length && history.stream().allMatch(e -> Double.isFinite(e.trainCmi()))) {
      c.addSeries("training (batches before their update)", x, history.stream().mapToDouble(EpochMetrics::trainCmi).toArray());
    }
    return c;
  }

  static XYChart reliability(Calibration.Reliability r) {
    XYChart c =
        new XYChartBuilder()
            .width(W)
            .height(H)
            .title(String.format(Locale.ROOT, "Reliability diagram (ECE %.4f)", r.ece()))
            .xAxisTitle("confidence (top probability)")
            .yAxisTitle("accuracy")
            .build();
    c.getStyler().setChartBackgroundColor(Color.WHITE);
    c.getStyler().setXAxisMin(0.0).setXAxisMax(1.0).setYAxisMin(0.0).setYAxisMax(1.0);
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    XYSeries diag = c.addSeries("perfect calibration", new double[] {0, 1}, new double[] {0, 1});
    diag.setMarker(SeriesMarkers.NONE);
    diag.setLineColor(Color.GRAY);
    diag.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 6f}, 0f));
    List<Double> xs = new ArrayList<>();
    List<Double> ys = new ArrayList<>();
    for (int b = 0; b < r.bins(); b++) {
      if (r.counts()[b] > 0) {
        xs.add(r.confidence()[b]);
        ys.add(r.accuracy()[b]);
      }
    }
    if (!xs.isEmpty()) {
      XYSeries s = c.addSeries("model (per confidence bin)", xs, ys);
      s.setMarker(SeriesMarkers.CIRCLE);
      s.setLineColor(new Color(31, 119, 180));
      s.setMarkerColor(new Color(31, 119, 180));
    }
    return c;
  }

  /**
   * The per-class accuracy chart: one bar per class, classes without training examples marked as omitted.
   *
   * @param accuracy accuracy per class (NaN: no test examples of the class)
   * @param trainCounts training examples per class
   * @return the chart
   */
  public static CategoryChart perClass(double[] accuracy, int[] trainCounts) {
    CategoryChart c =
        new CategoryChartBuilder()
            .width(W)
            .height(H)
            .title("Test accuracy per class")
            .xAxisTitle("class")
            .yAxisTitle("accuracy")
            .build();
    c.getStyler().setChartBackgroundColor(Color.WHITE);
    c.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
    c.getStyler().setOverlapped(true);
    c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    List<String> names = new ArrayList<>();
    List<Double> seen = new ArrayList<>();
    List<Double> omitted = new ArrayList<>();
    boolean anyOmitted = false;
    for (int k = 0; k < accuracy.length; k++) {
      boolean isOmitted = trainCounts != null && trainCounts[k] == 0;
      anyOmitted |= isOmitted;
      // A class without test examples gets an empty bar and a label saying so.
      names.add(Integer.toString(k) + (Double.isNaN(accuracy[k]) ? " (no test data)" : "") + (isOmitted ? " *" : ""));
      double a = Double.isNaN(accuracy[k]) ? 0 : accuracy[k];
      seen.add(isOmitted ? 0 : a);
      omitted.add(isOmitted ? a : 0);
    }
    CategorySeries s = c.addSeries("classes seen in training", names, seen);
    s.setFillColor(new Color(31, 119, 180));
    if (anyOmitted) {
      CategorySeries o = c.addSeries("* omitted from training", names, omitted);
      o.setFillColor(new Color(214, 39, 40));
    }
    if (accuracy.length > 20) {
      c.getStyler().setXAxisLabelRotation(90);
    }
    return c;
  }

  private static String html(Inputs in, List<String> images) {
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
        .append(esc(in.title()))
        .append("</title>\n<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em}"
            + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
            + "td:first-child,th:first-child{text-align:left}img{max-width:100%;display:block;margin:1em 0}"
            + "pre{background:#f6f6f6;padding:1em;overflow-x:auto}</style></head><body>\n")
        .append("<h1>").append(esc(in.title())).append("</h1>\n<h2>Results</h2>\n<table><tr><th>model</th><th>examples</th>"
            + "<th>accuracy</th><th>NLL</th><th>ECE</th><th>parameters</th></tr>\n");
    for (Row r : in.rows()) {
      b.append("<tr><td>").append(esc(r.model())).append("</td><td>").append(r.examples()).append("</td><td>")
          .append(fmt(r.accuracy())).append("</td><td>").append(fmt(r.nll())).append("</td><td>").append(fmt(r.ece()))
          .append("</td><td>").append(r.parameters() < 0 ? "-" : Long.toString(r.parameters())).append("</td></tr>\n");
    }
    b.append("</table>\n");
    if (!in.history().isEmpty()) {
      EpochMetrics last = in.history().get(in.history().size() - 1);
      b.append(String.format(Locale.ROOT, "<p>%d epochs, %d steps.</p>%n", in.history().size(), last.globalStep()));
    }
    b.append("<h2>Plots</h2>\n");
    for (String img : images) {
      b.append("<img src=\"").append(img).append("\" alt=\"").append(img).append("\">\n");
    }
    b.append("<h2>Run configuration</h2>\n<pre>").append(esc(in.configText())).append("</pre>\n</body></html>\n");
    return b.toString();
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
