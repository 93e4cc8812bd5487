package dev.tfkd.training;

import java.util.Locale;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GPUOptions;

/**
 * Where and how wide a TensorFlow session runs: intra-op threads (the pool one kernel, e.g. a matrix multiply,
 * splits its work over), inter-op threads (the pool independent kernels run on at the same time) and the device.
 *
 * <p>{@code gpu:N} makes only GPU {@code N} visible, lets kernels without a GPU implementation fall back to the CPU
 * (soft placement) and lets TensorFlow's GPU memory grow as needed instead of taking the whole card. On a machine
 * or build without a GPU, soft placement runs everything on the CPU. {@code cpu} hides every GPU.
 *
 * <p>Thread counts are bounded by {@link #MAX_THREADS}: TensorFlow starts every pool thread when a session opens,
 * and a run opens several sessions, so an absurd count (100,000) exhausts the process's threads and hangs the run
 * instead of failing it. 0 (TensorFlow's own choice: one per core) is always allowed, however many cores there are.
 *
 * @param intraOpThreads 0 lets TensorFlow choose (all cores); at most {@value #MAX_THREADS}
 * @param interOpThreads 0 lets TensorFlow choose (all cores); at most {@value #MAX_THREADS}
 * @param device where the graph runs
 */
public record SessionSettings(int intraOpThreads, int interOpThreads, Device device) {
  /**
   * The most threads any tf-kd option accepts: more than any CPU TensorFlow speeds up on (its kernels stop scaling
   * well before), and few enough that the several sessions of a run stay far inside a process's thread limit.
   */
  public static final int MAX_THREADS = 256;

  /**
   * Validates the settings; throws IllegalArgumentException for a thread count outside its bounds or a missing device.
   */
  public SessionSettings {
    checkThreads("intra-op threads", intraOpThreads);
    checkThreads("inter-op threads", interOpThreads);
    if (device == null) {
      device = Device.DEFAULT;
    }
  }

  /**
   * The defaults for this machine: one intra-op thread per core and a single inter-op thread. The training graphs
   * here are chains of large kernels with little independent work, so a second inter-op pool mostly competes with
   * the intra-op pool for the same cores.
   */
  public static SessionSettings defaults() {
    return new SessionSettings(Math.min(MAX_THREADS, Runtime.getRuntime().availableProcessors()), 1, Device.DEFAULT);
  }

  /**
   * Returns {@code threads} if it is in [0, {@value #MAX_THREADS}]; otherwise throws IllegalArgumentException naming
   * {@code what} (a flag or field) with the bound.
   */
  public static int checkThreads(String what, int threads) {
    if (threads < 0 || threads > MAX_THREADS) {
      throw new IllegalArgumentException(
          what + " must be in [0, " + MAX_THREADS + "] (0 = TensorFlow's default, one per core), got " + threads);
    }
    return threads;
  }

  /** {@code threads} intra-op threads and {@code min(2, threads)} inter-op threads on the default device. */
  public static SessionSettings ofThreads(int threads) {
    return new SessionSettings(threads, threads == 0 ? 0 : Math.min(2, threads), Device.DEFAULT);
  }

  /**
   * The TensorFlow session configuration for these settings.
   *
   * @return a new ConfigProto
   */
  public ConfigProto toConfigProto() {
    ConfigProto.Builder b = ConfigProto.newBuilder();
    if (intraOpThreads > 0) {
      b.setIntraOpParallelismThreads(intraOpThreads);
    }
    if (interOpThreads > 0) {
      b.setInterOpParallelismThreads(interOpThreads);
    }
    switch (device.kind()) {
      case DEFAULT -> {}
      case CPU -> b.putDeviceCount("GPU", 0);
      case GPU ->
          b.setAllowSoftPlacement(true)
              .setGpuOptions(
                  GPUOptions.newBuilder()
                      .setAllowGrowth(true)
                      .setVisibleDeviceList(Integer.toString(device.index())));
    }
    return b.build();
  }

  @Override
  public String toString() {
    return "intra-op " + intraOpThreads + ", inter-op " + interOpThreads + ", device " + device;
  }

  /**
   * A device: TensorFlow's choice (a GPU if the build and machine have one, else the CPU), the CPU only, or GPU
   * {@code index}.
   */
  public record Device(Kind kind, int index) {
    /** TensorFlow's default placement. */
    public static final Device DEFAULT = new Device(Kind.DEFAULT, 0);
    /** The CPU. */
    public static final Device CPU = new Device(Kind.CPU, 0);

    /** How a device is chosen. */
    public enum Kind {
      /** TensorFlow's default placement. */
      DEFAULT,
      /** The CPU. */
      CPU,
      /** A GPU, by index. */
      GPU
    }

    /** Validates the device; throws IllegalArgumentException for a negative index or an index on a non-GPU device. */
    public Device {
      if (kind == null || index < 0 || (kind != Kind.GPU && index != 0)) {
        throw new IllegalArgumentException("bad device " + kind + ":" + index);
      }
    }

    /** Parses {@code cpu}, {@code gpu} (GPU 0), {@code gpu:N} or {@code default}. */
    public static Device parse(String s) {
      String v = s.strip().toLowerCase(Locale.ROOT);
      if (v.equals("cpu")) {
        return CPU;
      }
      if (v.equals("default")) {
        return DEFAULT;
      }
      if (v.equals("gpu")) {
        return new Device(Kind.GPU, 0);
      }
      if (v.startsWith("gpu:")) {
        try {
          int n = Integer.parseInt(v.substring(4));
          if (n >= 0) {
            return new Device(Kind.GPU, n);
          }
        } catch (NumberFormatException ignored) {
          // Falls through to the message below.
        }
      }
      throw new IllegalArgumentException("bad device '" + s + "': expected cpu, gpu or gpu:N (N >= 0)");
    }

    @Override
    public String toString() {
      return switch (kind) {
        case DEFAULT -> "default";
        case CPU -> "cpu";
        case GPU -> "gpu:" + index;
      };
    }
  }
}
