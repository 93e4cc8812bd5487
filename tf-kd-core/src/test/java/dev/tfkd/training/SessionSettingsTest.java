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
}
