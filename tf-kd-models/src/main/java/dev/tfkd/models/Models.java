package dev.tfkd.models;

import dev.tfkd.graph.Architecture;
import dev.tfkd.training.MemoryEstimate;
import dev.tfkd.training.TrainConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The model zoo's registry: architectures by name, for the command line and the Java API.
 *
 * <p>A model is named by a spec: the name alone ({@code resnet56}) or the name with arguments after a colon
 * ({@code mlp:512,512} for the hidden widths, {@code mlp:512,512,dropout=0.2}, {@code mobilenetv2:1.0} for the
 * width multiplier). Models without arguments reject them. Every convolutional model takes NHWC images of any
 * {@code H x W x C} (LeNet-5 needs at least 12x12).
 *
 * <p>Bounds on the arguments ({@link Entry#bounds()}, listed by {@code tfkd models}): an MLP has at most
 * {@value #MAX_MLP_LAYERS} hidden layers, each of width 1 to {@value #MAX_MLP_WIDTH} (the widths multiply into
 * kernels, so they are also bounded by memory, below), dropout in [0, 1); the MobileNetV2 width multiplier is in
 * (0, 4] with at least one channel in its narrowest layer.
 *
 * <p>Training goes through {@link #forTraining}: it builds the architecture and refuses one whose
 * {@link MemoryEstimate} for the batch size and optimizer exceeds the memory the machine has available, before
 * anything is allocated.
 */
public final class Models {
  private Models() {}

  /** Builds an architecture for the given input shape and class count from the spec's arguments. */
  @FunctionalInterface
  public interface Factory {
    /**
     * Builds the architecture.
     *
     * @param args the spec's arguments after the name
     * @param inputShape the shape of one example
     * @param numClasses K
     * @return the architecture
     */
    Architecture create(String args, long[] inputShape, int numClasses);
  }

  /**
   * One entry: name, description, factory, and the reference zoo's parameter count for CIFAR-100 (32x32x3 inputs,
   * 100 classes) with default arguments, 0 where the model is not part of the benchmark zoo.
   */
  public record Entry(String name, String description, Factory factory, long cifar100Reference, String bounds) {}

  /** The widest hidden layer an MLP spec accepts. */
  public static final int MAX_MLP_WIDTH = 100_000_000;

  /** The most hidden layers an MLP spec accepts. */
  public static final int MAX_MLP_LAYERS = 1000;

  private static final String MLP_BOUNDS =
      "hidden layers 0 to " + MAX_MLP_LAYERS + ", widths 1 to " + MAX_MLP_WIDTH + ", dropout in [0, 1)";
  private static final String MOBILENET_BOUNDS = "width multiplier in (0, 4], at least 1/16";

  private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

  /**
   * Parameter counts of the PyTorch zoo the CRD (RepDistiller) and DKD (mdistiller) tables use, for 100 classes,
   * worked out from its layer definitions; see the README's model zoo table.
   */
  private static final Map<String, Long> CIFAR100_REFERENCE =
      Map.ofEntries(
          Map.entry("resnet8", 83_892L), Map.entry("resnet14", 181_108L), Map.entry("resnet20", 278_324L),
          Map.entry("resnet32", 472_756L), Map.entry("resnet44", 667_188L), Map.entry("resnet56", 861_620L),
          Map.entry("resnet110", 1_736_564L), Map.entry("resnet8x4", 1_233_540L),
          Map.entry("resnet32x4", 7_433_860L), Map.entry("wrn_16_1", 180_916L), Map.entry("wrn_16_2", 703_284L),
          Map.entry("wrn_40_1", 569_780L), Map.entry("wrn_40_2", 2_255_156L), Map.entry("vgg8", 3_965_028L),
          Map.entry("vgg11", 9_277_284L), Map.entry("vgg13", 9_462_180L), Map.entry("mobilenetv2", 812_836L),
          Map.entry("shufflenetv2", 1_356_104L));

  private static final int[] SMALL = {16, 16, 32, 64};
  private static final int[] WIDE4 = {32, 64, 128, 256};

  static {
    register("mlp", "Multi-layer perceptron, ReLU; args: hidden widths and optional dropout (default 256,256),"
        + " e.g. mlp:512,512,dropout=0.2", Models::mlp, MLP_BOUNDS);
    register("lenet5", "LeNet-5 with ReLU and max pooling (conv5x5x6, pool, conv5x5x16, pool, 120, 84, K)",
        noArgs("lenet5", LeNet5::new));
    register("cnn", "Small CNN: conv3x3x32 ReLU, conv3x3x64 ReLU, maxpool 2, dense K (the benchmark CNN)",
        noArgs("cnn", SmallCnn::new));
    for (int depth : new int[] {8, 14, 20, 32, 44, 56, 110}) {
      String name = "resnet" + depth;
      register(name, "CIFAR ResNet-" + depth + " (basic blocks, widths 16/32/64, BN)",
          noArgs(name, (s, k) -> new CifarResNet(name, depth, SMALL, s, k)));
    }
    register("resnet8x4", "CIFAR ResNet-8 with 4x widths (32/64/128/256), the benchmark student",
        noArgs("resnet8x4", (s, k) -> new CifarResNet("resnet8x4", 8, WIDE4, s, k)));
    register("resnet32x4", "CIFAR ResNet-32 with 4x widths (32/64/128/256), the benchmark teacher",
        noArgs("resnet32x4", (s, k) -> new CifarResNet("resnet32x4", 32, WIDE4, s, k)));
    for (int[] dw : new int[][] {{16, 1}, {16, 2}, {40, 1}, {40, 2}}) {
      String name = "wrn_" + dw[0] + "_" + dw[1];
      register(name, "Wide ResNet WRN-" + dw[0] + "-" + dw[1] + " (pre-activation, BN)",
          noArgs(name, (s, k) -> new WideResNet(name, dw[0], dw[1], s, k)));
    }
    register("vgg8", "VGG-8 with BN (1 conv per block)", noArgs("vgg8", (s, k) -> new Vgg("vgg8", new int[] {1, 1, 1, 1, 1}, s, k)));
    register("vgg11", "VGG-11 with BN", noArgs("vgg11", (s, k) -> new Vgg("vgg11", new int[] {1, 1, 2, 2, 2}, s, k)));
    register("vgg13", "VGG-13 with BN", noArgs("vgg13", (s, k) -> new Vgg("vgg13", new int[] {2, 2, 2, 2, 2}, s, k)));
    register("mobilenetv2", "MobileNetV2 (expansion 6); arg: width multiplier (default 0.5, the benchmark student),"
        + " e.g. mobilenetv2:1.0", Models::mobileNet, MOBILENET_BOUNDS);
    register("shufflenetv2", "ShuffleNetV2 net size 1 (widths 116/232/464, 1024 head)",
        noArgs("shufflenetv2", ShuffleNetV2::new));
  }

  private static void register(String name, String description, Factory f) {
    register(name, description, f, "");
  }

  private static void register(String name, String description, Factory f, String bounds) {
    ENTRIES.put(name, new Entry(name, description, f, CIFAR100_REFERENCE.getOrDefault(name, 0L), bounds));
  }

  private interface Simple {
    Architecture create(long[] inputShape, int numClasses);
  }

  private static Factory noArgs(String name, Simple s) {
    return (args, shape, k) -> {
      if (!args.isBlank()) {
        throw new IllegalArgumentException("model " + name + " takes no arguments, got '" + args + "'");
      }
      return s.create(shape, k);
    };
  }

  private static Architecture mlp(String args, long[] shape, int k) {
    float dropout = 0f;
    List<String> widths = new ArrayList<>();
    for (String part : args.isBlank() ? new String[0] : args.split(",")) {
      String p = part.strip();
      if (p.startsWith("dropout=")) {
        try {
          dropout = Float.parseFloat(p.substring("dropout=".length()));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("mlp: bad dropout '" + p + "'");
        }
        if (!(dropout >= 0 && dropout < 1)) {
          throw new IllegalArgumentException("mlp: dropout must be in [0, 1), got " + p.substring("dropout=".length()));
        }
      } else {
        widths.add(p);
      }
    }
    if (widths.size() > MAX_MLP_LAYERS) {
      throw new IllegalArgumentException("mlp: at most " + MAX_MLP_LAYERS + " hidden layers, got " + widths.size());
    }
    for (String w : widths) {
      // Checked as written, before int conversion: 1e12 must not wrap or saturate into a plausible width.
      long v;
      try {
        v = Long.parseLong(w);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("mlp: expected comma-separated integer widths, got '" + args + "'");
      }
      if (v < 1 || v > MAX_MLP_WIDTH) {
        throw new IllegalArgumentException("mlp: hidden widths must be in [1, " + MAX_MLP_WIDTH + "], got " + w);
      }
    }
    return new Mlp(shape, widths(String.join(",", widths), new int[] {256, 256}), k, dropout);
  }

  private static Architecture mobileNet(String args, long[] shape, int k) {
    double width = 0.5;
    if (!args.isBlank()) {
      try {
        width = Double.parseDouble(args.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("mobilenetv2: expected a width multiplier such as 0.5, got '" + args + "'");
      }
    }
    return new MobileNetV2(width, shape, k);
  }

  /** Every registered model, in registration order. */
  public static List<Entry> entries() {
    return List.copyOf(ENTRIES.values());
  }

  /** The architecture named by {@code spec} for inputs of {@code inputShape} and {@code numClasses} classes. */
  public static Architecture create(String spec, long[] inputShape, int numClasses) {
    String s = spec.strip();
    int colon = s.indexOf(':');
    String name = (colon < 0 ? s : s.substring(0, colon)).toLowerCase(Locale.ROOT);
    String args = colon < 0 ? "" : s.substring(colon + 1);
    Entry e = ENTRIES.get(name);
    if (e == null) {
      throw new IllegalArgumentException("unknown model '" + name + "'; known: " + String.join(", ", ENTRIES.keySet()));
    }
    return e.factory().create(args, inputShape.clone(), numClasses);
  }

  /**
   * The architecture named by {@code spec}, for training in batches of {@code config.batchSize()} with
   * {@code config.optimizer()}: {@link #create} followed by the memory check. Throws IllegalArgumentException, one
   * line with the estimate and the machine's available memory, when the model cannot fit.
   */
  public static Architecture forTraining(String spec, long[] inputShape, int numClasses, TrainConfig config) {
    return forTraining(spec, inputShape, numClasses, config, MemoryEstimate.availableMemory());
  }

  /** {@link #forTraining(String, long[], int, TrainConfig)} against {@code availableBytes} of memory. */
  public static Architecture forTraining(
      String spec, long[] inputShape, int numClasses, TrainConfig config, long availableBytes) {
    Architecture a = create(spec, inputShape, numClasses);
    MemoryEstimate.of(a, config.batchSize(), config.optimizer()).requireFits(spec.strip(), availableBytes);
    return a;
  }

  /**
   * The number of trainable scalars of {@code architecture} (kernels, biases, batch-norm scales and shifts; not
   * the moving averages), counted by building its inference graph without initial values.
   */
  public static long parameterCount(Architecture architecture) {
    return dev.tfkd.graph.ParameterCount.of(architecture);
  }

  static int[] widths(String args, int[] fallback) {
    if (args.isBlank()) {
      return fallback;
    }
    try {
      return Arrays.stream(args.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected comma-separated integer widths, got '" + args + "'");
    }
  }
}
