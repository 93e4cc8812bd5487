package dev.tfkd.features;

import dev.tfkd.losses.Divergences;
import dev.tfkd.losses.Parameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The registry of feature-distillation losses, by name, for the command line and the Java API. A loss is named by
 * a spec as a divergence is: the name alone for the defaults ({@code at}), or with parameters in parentheses
 * ({@code rkd(distance=25, angle=50)}); unknown names and parameters, values outside their bounds and keys given
 * twice are refused with a message naming the spec. Each entry carries its default term weight (the weight the
 * published CIFAR-100 tables use), applied when a {@link LossSpec} term gives none.
 */
public final class FeatureLosses {
  private FeatureLosses() {}

  /**
   * One entry.
   *
   * @param name the name
   * @param description formula, paper, feature points and defaults, one line
   * @param defaultWeight the term weight when a loss spec gives none
   * @param parameters the numeric parameters with their bounds
   * @param factory makes the loss from its parameters' values, in the order of {@code parameters}
   */
  public record Entry(
      String name, String description, float defaultWeight, List<Parameter> parameters, Function<double[], FeatureLoss> factory) {
    /** Copies the parameter list. */
    public Entry {
      parameters = List.copyOf(parameters);
    }
  }

  private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

  static {
    register(new Entry("at",
        "sum over stages of mean (a(S) - a(T))^2, a(F) = normalize(mean_c F^2): attention maps of every stage"
            + " (Zagoruyko and Komodakis 2017). weight 1000",
        At.DEFAULT_WEIGHT, List.of(), v -> new At()));
    register(new Entry("sp",
        "sum (G_t - G_s)^2 / B^2, G = normalize_rows(F F^T) of the last stage (Tung and Mori 2019). weight 3000",
        Sp.DEFAULT_WEIGHT, List.of(), v -> new Sp()));
    register(new Entry("pkt",
        "mean_ij P_ij log((P_ij + eps) / (Q_ij + eps)), row-normalised (cos + 1) / 2 of the pooled vectors"
            + " (Passalis and Tefas 2018). weight 30000",
        Pkt.DEFAULT_WEIGHT, List.of(), v -> new Pkt()));
    register(new Entry("rkd",
        "distance smoothL1(d_s/mean, d_t/mean) + angle smoothL1(a_s, a_t) on the pooled vectors (Park et al. 2019)."
            + " rkd(distance=25, angle=50), weight 1",
        1f, List.of(Rkd.DISTANCE, Rkd.ANGLE), v -> new Rkd((float) v[0], (float) v[1])));
    register(new Entry("dist",
        "T^2 (beta (1 - mean_i rho(Y_s,i, Y_t,i)) + gamma (1 - mean_k rho(Y_s,:k, Y_t,:k))), Y = softmax(z/T), rho"
            + " Pearson (Huang et al. 2022). dist(beta=1, gamma=1, T=4), weight 1",
        1f, List.of(Dist.BETA, Dist.GAMMA, Dist.TEMPERATURE), v -> new Dist((float) v[0], (float) v[1], (float) v[2])));
    register(new Entry("fitnet",
        "mean (r(S_s) - T_s)^2, r = conv3x3+BN+ReLU regressor (an adapter) on stage s (Romero et al. 2015)."
            + " fitnet(stage=2), weight 100",
        FitNet.DEFAULT_WEIGHT, List.of(FitNet.STAGE), v -> new FitNet((int) v[0])));
    register(new Entry("reviewkd",
        "min(1, (epoch+1)/warmup) sum_l HCL(o_l, T_l): attention-based fusion of the student's stages and pooled"
            + " vector deepest first (adapters), hierarchical context loss = MSE at full size and pooled to 4, 2, 1,"
            + " weights 1, 1/2, 1/4, ... normalised; teacher stageN_pre (Chen et al. 2021)."
            + " reviewkd(warmup=20, mid=512), weight 5",
        ReviewKd.DEFAULT_WEIGHT, List.of(ReviewKd.WARMUP, ReviewKd.MID), v -> new ReviewKd((int) v[0], (int) v[1])));
    register(new Entry("vid",
        "sum_j mean 0.5 ((mu_j - T_j)^2 / var_j + log var_j), mu = three 1x1 convs with ReLU (adapter), var ="
            + " softplus(alpha) + 1e-5 per channel, every stage (Ahn et al. 2019). vid(variance=5), weight 1",
        Vid.DEFAULT_WEIGHT, List.of(Vid.VARIANCE), v -> new Vid((float) v[0])));
    register(new Entry("crd",
        "h(p_s) + h(p_t), NCE of exp(<e, M[j]>/tau)/Z against a memory bank of the other network's embeddings,"
            + " e = normalize(W pooled + b) (Tian et al. 2020); the banks are checkpointed training state."
            + " crd(dim=128, negatives=16384, tau=0.07, momentum=0.5), weight 0.8",
        Crd.DEFAULT_WEIGHT, List.of(Crd.DIM, Crd.NEGATIVES, Crd.TAU, Crd.MOMENTUM),
        v -> new Crd((int) v[0], (int) v[1], (float) v[2], (float) v[3])));
    register(new Entry("ofd",
        "sum_stages decay^-(n-i) sum (c(S) - max(T, m))^2 [c(S) > max(T, m) or max(T, m) > 0] / B, T the teacher's"
            + " pre-ReLU stages, m = E[x | x < 0] for x ~ N(beta, gamma^2) of its BN, c = 1x1 conv+BN connector (Heo"
            + " et al. 2019). ofd(decay=2), weight 1e-3",
        Ofd.DEFAULT_WEIGHT, List.of(Ofd.DECAY), v -> new Ofd((float) v[0])));
  }

  private static void register(Entry e) {
    ENTRIES.put(e.name(), e);
  }

  /**
   * Every registered feature loss, in registration order.
   *
   * @return the entries
   */
  public static List<Entry> entries() {
    return List.copyOf(ENTRIES.values());
  }

  /**
   * The entry named {@code name}, or null.
   *
   * @param name a name such as {@code at}
   * @return the entry or null
   */
  public static Entry entry(String name) {
    return ENTRIES.get(name.strip().toLowerCase(Locale.ROOT));
  }

  /**
   * Whether {@code spec} names a feature loss (by the name before any parenthesis).
   *
   * @param spec a term spec
   * @return whether it is a feature loss
   */
  public static boolean isFeatureLoss(String spec) {
    String s = spec.strip();
    int open = s.indexOf('(');
    return entry(open < 0 ? s : s.substring(0, open)) != null;
  }

  /**
   * Parses a feature-loss spec, {@code name} or {@code name(key=value, ...)}.
   *
   * @param spec the spec
   * @return the loss
   * @throws IllegalArgumentException naming the spec, for an unknown name, an unknown or malformed parameter, a
   *     key given twice or a value outside its bounds
   */
  public static FeatureLoss parse(String spec) {
    String s = spec.strip();
    int open = s.indexOf('(');
    String name = open < 0 ? s : s.substring(0, open).strip();
    Entry e = entry(name);
    if (e == null) {
      throw new IllegalArgumentException(
          "unknown feature loss '" + name + "'; known: " + String.join(", ", ENTRIES.keySet()));
    }
    Map<String, Double> given = new LinkedHashMap<>();
    if (open >= 0) {
      if (!s.endsWith(")")) {
        throw new IllegalArgumentException("feature loss '" + spec + "': missing ')'");
      }
      String args = s.substring(open + 1, s.length() - 1);
      if (!args.isBlank()) {
        for (String part : args.split(",")) {
          String[] kv = part.split("=", 2);
          if (kv.length != 2) {
            throw new IllegalArgumentException("feature loss '" + spec + "': expected key=value, got '" + part.strip() + "'");
          }
          double v;
          try {
            v = Double.parseDouble(kv[1].strip());
          } catch (NumberFormatException ex) {
            throw new IllegalArgumentException("feature loss '" + spec + "': " + kv[0].strip() + " is not a number: " + kv[1].strip());
          }
          if (given.put(kv[0].strip(), v) != null) {
            throw new IllegalArgumentException("feature loss '" + spec + "': " + kv[0].strip() + " given twice");
          }
        }
      }
    }
    double[] values = new double[e.parameters().size()];
    for (int i = 0; i < values.length; i++) {
      Parameter p = e.parameters().get(i);
      Double v = given.remove(p.key());
      if (v != null && !p.accepts(v)) {
        throw new IllegalArgumentException("feature loss '" + spec + "': " + p.key() + " must be " + p.range() + ", got " + v);
      }
      values[i] = v == null ? p.defaultValue() : v;
    }
    if (!given.isEmpty()) {
      throw new IllegalArgumentException("feature loss '" + spec + "': unknown parameter(s) " + given.keySet()
          + (e.parameters().isEmpty() ? "; " + e.name() + " takes none" : ""));
    }
    return e.factory().apply(values);
  }

  /** {@code name(key=value, ...)} with each value written as {@link Divergences#number} writes it. */
  static String spec(String name, Object... keysAndValues) {
    StringBuilder b = new StringBuilder(name).append('(');
    for (int i = 0; i < keysAndValues.length; i += 2) {
      b.append(i == 0 ? "" : ", ").append(keysAndValues[i]).append('=')
          .append(Divergences.number(((Number) keysAndValues[i + 1]).floatValue()));
    }
    return b.append(')').toString();
  }
}
