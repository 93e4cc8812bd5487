package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Correctness of {@code tfkd bench}, on tiny timing windows; speed itself is the benchmark's business. */
class BenchCommandTest {
  private static final String[] FAST = {
    "--warmup-steps", "2", "--window-seconds", "0.05", "--windows", "2", "--examples", "300", "--threads", "1",
    "--matmul-size", "64"
  };

  private static String[] args(String... extra) {
    String[] a = new String[1 + extra.length + FAST.length];
    a[0] = "bench";
    System.arraycopy(extra, 0, a, 1, extra.length);
    System.arraycopy(FAST, 0, a, 1 + extra.length, FAST.length);
    return a;
  }

  private static double field(String out, String config, String key) {
    Matcher m = Pattern.compile("(?m)^config=" + Pattern.quote(config) + " .*\\b" + key + "=([0-9.]+)").matcher(out);
    assertTrue(m.find(), "no " + key + " for " + config + " in:\n" + out);
    return Double.parseDouble(m.group(1));
  }

  @Test
  void printsOneLinePerConfigurationWithRatesAndMemory() {
    DemoCommandTest.Run r = DemoCommandTest.tfkd(args("--config", "matmul,mlp,kd-mlp-cached,resnet8x4"));
    assertEquals(0, r.code(), r.err());
    assertTrue(field(r.out(), "matmul", "gflops") > 0);
    assertTrue(field(r.out(), "mlp", "steps_per_s") > 0);
    // Both are printed rounded (one decimal above 100, three below).
    assertEquals(128 * field(r.out(), "mlp", "steps_per_s"), field(r.out(), "mlp", "samples_per_s"), 128 * 0.05 + 0.1);
    assertTrue(field(r.out(), "mlp", "cpu_ms_per_step") > 0);
    assertTrue(field(r.out(), "mlp", "rss_mb") > 10);
    assertTrue(field(r.out(), "kd-mlp-cached", "cache_s") > 0);
    assertTrue(r.out().contains("summary=mlp-vs-ceiling"), r.out());
    assertTrue(r.out().contains("summary=kd-mlp-cached-vs-mlp"), r.out());
    // The zoo is a dependency: the ResNet is measured, never skipped (an error would fail the command).
    assertTrue(field(r.out(), "resnet8x4", "steps_per_s") > 0);
    assertEquals(64, field(r.out(), "resnet8x4", "batch"));
    assertFalse(r.out().contains("skipped"), r.out());
  }

  @Test
  void jsonIsAnArrayOfObjects() {
    DemoCommandTest.Run r = DemoCommandTest.tfkd(args("--config", "teacher-fwd", "--json"));
    assertEquals(0, r.code(), r.err());
    String out = r.out().strip();
    assertTrue(out.startsWith("[{\"config\": \"teacher-fwd\", \"batch\": 128, \"steps_per_s\": "), out);
    assertTrue(out.endsWith("}]"), out);
  }

  @Test
  void soakReportsMemoryAtIntervalsAndTheGrowth() {
    DemoCommandTest.Run r = DemoCommandTest.tfkd(args("--soak", "--steps", "40"));
    assertEquals(0, r.code(), r.err());
    assertEquals(20, r.out().lines().filter(l -> l.startsWith("soak config=mlp step=")).count(), r.out());
    assertTrue(r.out().matches("(?s).*soak=mlp steps=40 .*growth_pct=-?[0-9.]+ within_5pct=(true|false).*"), r.out());
  }

  @Test
  void badInputIsAUsageError() {
    DemoCommandTest.Run r = DemoCommandTest.tfkd(args("--config", "lstm"));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("unknown configuration 'lstm'"), r.err());
    DemoCommandTest.Run d = DemoCommandTest.tfkd(args("--config", "mlp", "--device", "tpu"));
    assertEquals(2, d.code());
    assertTrue(d.err().contains("cpu, gpu or gpu:N"), d.err());
  }
}
