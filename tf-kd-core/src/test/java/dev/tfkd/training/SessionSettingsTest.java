package dev.tfkd.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;

class SessionSettingsTest {
  @Test
  void devicesParse() {
    assertEquals(SessionSettings.Device.CPU, SessionSettings.Device.parse("CPU"));
    assertEquals(new SessionSettings.Device(SessionSettings.Device.Kind.GPU, 0), SessionSettings.Device.parse("gpu"));
    assertEquals("gpu:3", SessionSettings.Device.parse("gpu:3").toString());
    for (String bad : new String[] {"tpu", "gpu:-1", "gpu:x", ""}) {
      var e = assertThrows(IllegalArgumentException.class, () -> SessionSettings.Device.parse(bad));
      assertTrue(e.getMessage().contains("cpu, gpu or gpu:N"), e.getMessage());
    }
  }

  @Test
  void configProtoCarriesThreadsAndPlacement() {
    ConfigProto gpu = new SessionSettings(2, 1, SessionSettings.Device.parse("gpu:1")).toConfigProto();
    assertEquals(2, gpu.getIntraOpParallelismThreads());
    assertEquals(1, gpu.getInterOpParallelismThreads());
    assertTrue(gpu.getAllowSoftPlacement());
    assertTrue(gpu.getGpuOptions().getAllowGrowth());
    assertEquals("1", gpu.getGpuOptions().getVisibleDeviceList());
    ConfigProto cpu = new SessionSettings(0, 0, SessionSettings.Device.CPU).toConfigProto();
    assertEquals(0, cpu.getDeviceCountOrThrow("GPU"));
    assertEquals(0, cpu.getIntraOpParallelismThreads());
    assertFalse(cpu.getAllowSoftPlacement());
    assertThrows(IllegalArgumentException.class, () -> new SessionSettings(-1, 0, null));
  }

  @Test
  void threadCountsAreBoundedEverywhereTheyAreTaken() {
    org.junit.jupiter.api.Assertions.assertEquals(256, SessionSettings.checkThreads("--threads", 256));
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> new SessionSettings(100_000, 1, SessionSettings.Device.DEFAULT));
    org.junit.jupiter.api.Assertions.assertEquals(
        "intra-op threads must be in [0, 256] (0 = TensorFlow's default, one per core), got 100000", e.getMessage());
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> new SessionSettings(1, 257, SessionSettings.Device.DEFAULT));
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> new TrainConfig(1, 8, OptimizerConfig.adam(1e-3f), 1, 100_000));
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> dev.tfkd.export.Predictor.Options.DEFAULT.withThreads(100_000));
    org.junit.jupiter.api.Assertions.assertTrue(SessionSettings.defaults().intraOpThreads() <= SessionSettings.MAX_THREADS);
  }
}
