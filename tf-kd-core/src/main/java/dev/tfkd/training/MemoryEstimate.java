package dev.tfkd.training;

import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.ParameterCount;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * How much memory training a model will take, worked out before any of it is allocated, so that a model too large
 * for the machine ({@code mlp:20000000}) is refused with both figures instead of ending in a native
 * {@code std::bad_alloc} abort minutes later.
 *
 * <p>TensorFlow's tensors live outside the Java heap, so the figure is compared with the machine's memory (Linux
 * {@code MemAvailable}, else the free physical memory the JVM reports), not with {@code -Xmx}. The estimate, in
 * float32 bytes:
 *
 * <pre>
 *   parameters   4 P                      P = trainable scalars (kernels, biases, batch-norm scale and shift)
 *   gradients    4 P
 *   slots        4 P s                    s = 2 for Adam (m, v), 1 for SGD with momentum, 0 for plain SGD
 *   activations  2 x 4 A                  A = scalars of every tensor the forward pass computes for one batch
 *                                         (forward values kept for the backward pass, and as many gradients)
 * </pre>
 *
 * P and A come from building the model's training graph with a batch of the given size and reading the shapes
 * TensorFlow infers: a graph holds no tensor data, so this allocates nothing however large the model. Buffers
 * TensorFlow frees early make the true peak lower; its own workspace, the data and a teacher make it higher: the
 * figure is a guide, accurate to a factor of about two, used only to refuse what cannot possibly fit.
 *
 * @param parameters P
 * @param activations A, for one batch
 * @param slotsPerParameter s
 * @param batchSize the batch the activations are for
 * @param optimizer {@code Adam}, {@code SGD with momentum} or {@code SGD}, for the message
 */
public record MemoryEstimate(long parameters, long activations, int slotsPerParameter, int batchSize, String optimizer) {
  private static final double GB = 1e9;

  /** Estimates the memory of training {@code architecture} in batches of {@code batchSize} with {@code optimizer}. */
  public static MemoryEstimate of(Architecture architecture, int batchSize, OptimizerConfig optimizer) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    }
    int slots;
    String name;
    if (optimizer.kind() == OptimizerConfig.Kind.ADAM) {
      slots = 2;
      name = "Adam";
    } else if (optimizer.momentum() > 0) {
      slots = 1;
      name = "SGD momentum";
    } else {
      slots = 0;
      name = "SGD";
    }
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      long[] dims = new long[architecture.inputShape().length + 1];
      dims[0] = batchSize;
      System.arraycopy(architecture.inputShape(), 0, dims, 1, dims.length - 1);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(dims)));
      ParameterCount.Counting vars = new ParameterCount.Counting();
      architecture.build(tf, x, vars, Architecture.Mode.TRAINING);
      // Everything computed from the input is per-batch memory; variables and constants are not reachable from it.
      long a = Shape.of(dims).size();
      Set<GraphOperation> forward = g.subgraphFromOps(Set.of((GraphOperation) x.op()));
      for (GraphOperation op : forward) {
        if (op == x.op()) {
          continue;
        }
        for (int i = 0; i < op.numOutputs(); i++) {
          Output<?> out = op.output(i);
          long n = out.shape().size();
          if (n > 0) {
            a = saturatingAdd(a, n);
          }
        }
      }
      return new MemoryEstimate(vars.count(), a, slots, batchSize, name);
    }
  }

  /** Bytes of the parameters. */
  public double parameterBytes() {
    return 4.0 * parameters;
  }

  /** Bytes of the optimizer's slots. */
  public double slotBytes() {
    return 4.0 * parameters * slotsPerParameter;
  }

  /** Bytes of one batch's forward values and their gradients. */
  public double activationBytes() {
    return 2 * 4.0 * activations;
  }

  /** The whole estimate, in bytes: parameters, their gradients, the slots and the activations. */
  public double totalBytes() {
    return 2 * parameterBytes() + slotBytes() + activationBytes();
  }

  /** One line: {@code about 316.2 GB (parameters 63.6 GB, gradients 63.6 GB, Adam slots 127.2 GB, ...)}. */
  public String describe() {
    return String.format(
        Locale.ROOT,
        "about %s (parameters %s for %,d weights, gradients %s, %s activations %s at batch %d)",
        gb(totalBytes()), gb(parameterBytes()), parameters, gb(parameterBytes()),
        slotsPerParameter == 0 ? "no optimizer slots," : optimizer + " slots " + gb(slotBytes()) + ",",
        gb(activationBytes()), batchSize);
  }

  /**
   * Throws IllegalArgumentException, one line naming {@code spec} and both figures, when the estimate exceeds
   * {@code availableBytes}.
   */
  public void requireFits(String spec, long availableBytes) {
    if (totalBytes() > availableBytes) {
      throw new IllegalArgumentException(
          "model " + spec + " needs " + describe() + " to train, but the machine has " + gb(availableBytes)
              + " available; choose a smaller model, a smaller batch size or SGD");
    }
  }

  /**
   * The memory this machine can give a new allocation now: Linux's {@code MemAvailable} from {@code /proc/meminfo},
   * else the free physical memory the JVM reports.
   */
  public static long availableMemory() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) {
          String[] f = line.trim().split("\\s+");
          return Long.parseLong(f[1]) * 1024L;
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux, or an unusual /proc: fall back to what the JVM reports.
    }
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getFreeMemorySize();
    }
    return Long.MAX_VALUE;
  }

  static String gb(double bytes) {
    return String.format(Locale.ROOT, "%.1f GB", bytes / GB);
  }

  private static long saturatingAdd(long a, long b) {
    long s = a + b;
    return s < 0 ? Long.MAX_VALUE : s;
  }
}
