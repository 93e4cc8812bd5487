package dev.tfkd.losses;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The registry of distillation divergences, by name, for the command line and the Java API.
 *
 * <p>A divergence is named by a spec string: the name alone for the defaults ({@code kl}), or the name with
 * parameters in parentheses ({@code kl(T=2)}); a {@code cswt:} prefix ({@code cswt:kl}, {@code cswt(Tmin=1,
 * Tmax=8):dkd}) replaces the constant temperature of any {@link Tempered} divergence with the per-example CSWT
 * policy ({@link Cswt}). Unknown names and parameters are rejected with a message that lists what is accepted.
 * Each entry's description ends with its spec written out with every default.
 *
 * <p>Every numeric parameter has bounds ({@link Entry#parameters()}, {@link Parameter}), checked when the spec is
 * parsed: temperatures ({@code T}, {@code Tmin}, {@code Tmax}) in [0.01, 100]; Sinkhorn's {@code iters} an integer in
 * [1, 1000] (its iterations are unrolled into the graph) and {@code eps} in [0.001, 1000]; DKD's {@code warmup} an
 * integer in [0, 100000]; weights ({@code dkd} alpha and beta, {@code nkd} gamma) in [0, 1000], {@code bdkd} w in
 * [1, 1000]; the exponents of {@code alpha} and {@code alpha-beta} in [-10, 10]; mixture weights in [0, 1] with the
 * ends each divergence excludes. {@code tfkd divergences} lists them. A key given twice is refused.
 */
public final class Divergences {
  private Divergences() {}

  /**
   * One registry entry: name, one-line description with formula, paper and defaults, the numeric parameters with
   * their bounds (each checked when a spec is parsed), and a factory.
   */
  public record Entry(String name, String description, List<Parameter> parameters, Factory factory) {
    /** Copies the parameter list. */
    public Entry {
      parameters = List.copyOf(parameters);
    }
  }

  /** Builds a divergence from parsed parameters; throws IllegalArgumentException for unknown or bad ones. */
  @FunctionalInterface
  public interface Factory {
    /**
     * Builds the divergence.
     *
     * @param params the parsed, bounds-checked parameters
     * @return the divergence
     */
    Divergence create(Params params);
  }

  private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

  static {
    register(
        new Entry(
            "kl",
            "T^2 KL(p || q), p = softmax(z_t/T), q = softmax(z_s/T) (Hinton et al. 2015). kl(T=4)",
            List.of(Kl.TEMPERATURE),
            p -> new Kl(p.take(Kl.TEMPERATURE))));
    register(
        new Entry(
            "reverse-kl",
            "T^2 KL(q || p), mode-seeking (MiniLLM, Gu et al. 2024). reverse-kl(T=4)",
            List.of(ReverseKl.TEMPERATURE),
            p -> new ReverseKl(p.take(ReverseKl.TEMPERATURE))));
    register(
        new Entry(
            "js",
            "beta KL(p || m) + (1-beta) KL(q || m), m = beta p + (1-beta) q (Lin 1991; DistiLLM 2024). js(beta=0.5, T=1)",
            List.of(JensenShannon.BETA, JensenShannon.TEMPERATURE),
            p -> new JensenShannon(p.take(JensenShannon.BETA), p.take(JensenShannon.TEMPERATURE))));
    register(
        new Entry(
            "tvd",
            "0.5 sum_k |p_k - q_k|, total variation (Wen et al. 2023). tvd(T=1)",
            List.of(TotalVariation.TEMPERATURE),
            p -> new TotalVariation(p.take(TotalVariation.TEMPERATURE))));
    register(
        new Entry(
            "symmetric-kl",
            "(1-lambda) KL(p || q) + lambda KL(q || p) (Jeffreys 1946; Wu et al. 2024). symmetric-kl(lambda=0.5, T=1)",
            List.of(SymmetricKl.LAMBDA, SymmetricKl.TEMPERATURE),
            p -> new SymmetricKl(p.take(SymmetricKl.LAMBDA), p.take(SymmetricKl.TEMPERATURE))));
    register(
        new Entry(
            "skew-kl",
            "KL(p || a p + (1-a) q) (DistiLLM, Ko et al. 2024). skew-kl(a=0.1, T=1)",
            List.of(SkewKl.SKEW, SkewKl.TEMPERATURE),
            p -> new SkewKl(p.take(SkewKl.SKEW), p.take(SkewKl.TEMPERATURE), false)));
    register(
        new Entry(
            "skew-reverse-kl",
            "KL(q || a q + (1-a) p) (DistiLLM, Ko et al. 2024). skew-reverse-kl(a=0.1, T=1)",
            List.of(SkewKl.SKEW, SkewKl.TEMPERATURE),
            p -> new SkewKl(p.take(SkewKl.SKEW), p.take(SkewKl.TEMPERATURE), true)));
    register(
        new Entry(
            "alpha-beta",
            "-(1/(ab)) sum_k [p^a q^b - a/(a+b) p^(a+b) - b/(a+b) q^(a+b)], exact limit forms at a=0, b=0, a+b=0"
                + " (ABKD, Wang et al. 2025); (1,0) = KL(p||q), (0,1) = KL(q||p). alpha-beta(a=0.8, b=0.3, T=1)",
            List.of(AlphaBeta.A, AlphaBeta.B, AlphaBeta.TEMPERATURE),
            p -> new AlphaBeta(p.take(AlphaBeta.A), p.take(AlphaBeta.B), p.take(AlphaBeta.TEMPERATURE))));
    register(
        new Entry(
            "alpha",
            "(1/(alpha(1-alpha))) sum_k [alpha p + (1-alpha) q - p^alpha q^(1-alpha)], Amari alpha-divergence;"
                + " alpha=1: KL(p||q), alpha=0: KL(q||p). alpha(alpha=0.5, T=1)",
            List.of(Alpha.ALPHA, Alpha.TEMPERATURE),
            p -> new Alpha(p.take(Alpha.ALPHA), p.take(Alpha.TEMPERATURE))));
    register(
        new Entry(
            "cauchy-schwarz",
            "-log sum_k p_k q_k + 0.5 log sum_k p_k^2 + 0.5 log sum_k q_k^2 (Principe et al. 2000). cauchy-schwarz(T=1)",
            List.of(CauchySchwarz.TEMPERATURE),
            p -> new CauchySchwarz(p.take(CauchySchwarz.TEMPERATURE))));
    register(
        new Entry(
            "sinkhorn",
            "sum_ij P_ij W_ij over the batch, W_ij = ||q_i - p_j||_1, P = exp(-W/eps) after n row/column"
                + " normalisations to 1/B (SinKD, Cui et al. 2024). sinkhorn(eps=0.1, iters=20, T=1)",
            List.of(Sinkhorn.EPSILON, Sinkhorn.ITERATIONS, Sinkhorn.TEMPERATURE),
            p ->
                new Sinkhorn(
                    p.take(Sinkhorn.EPSILON), p.takeInt(Sinkhorn.ITERATIONS), p.take(Sinkhorn.TEMPERATURE))));
    register(
        new Entry(
            "dkd",
            "min(1,(epoch+1)/warmup) (alpha TCKD + beta NCKD), both T^2-scaled, target masked for NCKD"
                + " (Zhao et al., CVPR 2022). dkd(alpha=1, beta=8, T=4, warmup=20)",
            List.of(Dkd.ALPHA, Dkd.BETA, Dkd.TEMPERATURE, Dkd.WARMUP),
            p ->
                new Dkd(p.take(Dkd.ALPHA), p.take(Dkd.BETA), p.take(Dkd.TEMPERATURE), p.takeInt(Dkd.WARMUP))));
    register(
        new Entry(
            "nkd",
            "-t_y log s_y + gamma T^2 KL(t^ || s^) over renormalised non-target classes (Yang et al., ICCV 2023)."
                + " nkd(gamma=1.5, T=1)",
            List.of(Nkd.GAMMA, Nkd.TEMPERATURE),
            p -> new Nkd(p.take(Nkd.GAMMA), p.take(Nkd.TEMPERATURE))));
    register(
        new Entry(
            "bdkd",
            "T^2 (w_f KL(p||q) + w_r KL(q||p)), weight w on reverse KL if H(q) > H(p), else on forward KL"
                + " (BD-KD, Amara et al. 2022). bdkd(w=3, T=1)",
            List.of(Bdkd.WEIGHT, Bdkd.TEMPERATURE),
            p -> new Bdkd(p.take(Bdkd.WEIGHT), p.take(Bdkd.TEMPERATURE))));
    register(
        new Entry(
            "mse-logits",
            "(1/K) sum_k (z_s,k - z_t,k)^2 on raw logits (Ba and Caruana 2014). mse-logits (no parameters)",
            List.of(),
            p -> new MseLogits()));
  }

  /**
   * The per-example temperature policy, written as a prefix of any divergence with a temperature:
   * {@code cswt:kl}, {@code cswt(Tmin=2, Tmax=6):dkd(beta=4)}.
   */
  public static final String CSWT_DESCRIPTION =
      "cswt(Tmin=2, Tmax=6):SPEC  per-example temperature T_i = Tmax - (Tmax-Tmin) rank_i/(B-1), rank of"
          + " cos(softmax(z_s,i), softmax(z_t,i)) ascending in the batch: most similar gets Tmin (CSWT, Ham et al."
          + " 2023); replaces T (and T^2) of any divergence that has one";

  /** The parameters of the {@code cswt} policy, with their bounds. */
  public static final List<Parameter> CSWT_PARAMETERS = List.of(Cswt.MIN, Cswt.MAX);

  /** How a divergence is written on the command line. */
  public static final String SPEC_SYNTAX =
      "NAME | NAME(key=value, ...) | cswt:SPEC | cswt(Tmin=.., Tmax=..):SPEC   e.g. kl, kl(T=2), dkd(beta=4, warmup=0),"
          + " cswt:kl";

  /**
   * {@code name(key=value, ...)} from alternating keys and {@link Number} values, each value written so that {@link
   * #parse} reads back the same float ({@code 4}, not {@code 4.0}; {@code 0.1}): the inverse of parsing, for {@link
   * Divergence#spec()}.
   */
  static String spec(String name, Object... keysAndValues) {
    StringBuilder b = new StringBuilder(name).append('(');
    for (int i = 0; i < keysAndValues.length; i += 2) {
      b.append(i == 0 ? "" : ", ").append(keysAndValues[i]).append('=').append(number(((Number) keysAndValues[i + 1]).floatValue()));
    }
    return b.append(')').toString();
  }

  /** A float as the shortest decimal that parses back to it, without a trailing {@code .0}. */
  public static String number(float v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e7f) {
      return Long.toString((long) v);
    }
    return Float.toString(v);
  }

  private static void register(Entry e) {
    ENTRIES.put(e.name(), e);
  }

  /**
   * Every registered divergence, in registration order.
   *
   * @return the entries (an unmodifiable copy)
   */
  public static List<Entry> entries() {
    return List.copyOf(ENTRIES.values());
  }

  /**
   * Parses a divergence spec: {@code name}, {@code name(key=value, ...)}, or either behind the per-example
   * temperature policy {@code cswt:} / {@code cswt(Tmin=2, Tmax=6):}. Unknown names, unknown or malformed
   * parameters and out-of-range values throw IllegalArgumentException naming the spec.
   *
   * @param spec the spec, e.g. {@code kl(T=4)}
   * @return the divergence
   */
  public static Divergence parse(String spec) {
    String s = spec.strip();
    int colon = s.indexOf(':');
    if (colon >= 0) {
      String policy = s.substring(0, colon).strip();
      String[] nameArgs = split(spec, policy);
      if (!nameArgs[0].equalsIgnoreCase("cswt")) {
        throw new IllegalArgumentException(
            "divergence '" + spec + "': unknown temperature policy '" + nameArgs[0] + "'; known: cswt");
      }
      Divergence inner = parse(s.substring(colon + 1));
      if (!(inner instanceof Tempered tempered)) {
        throw new IllegalArgumentException(
            "divergence '" + spec + "': cswt needs a divergence with a temperature; " + inner.name() + " has none");
      }
      Params params = Params.parse(spec, nameArgs[1]);
      Divergence d = wrap(spec, () -> new Cswt(tempered, params.take(Cswt.MIN), params.take(Cswt.MAX)));
      params.checkAllUsed();
      return d;
    }
    String[] nameArgs = split(spec, s);
    Entry e = ENTRIES.get(nameArgs[0].toLowerCase(Locale.ROOT));
    if (e == null) {
      throw new IllegalArgumentException(
          "unknown divergence '" + nameArgs[0] + "'; known: " + String.join(", ", ENTRIES.keySet()));
    }
    Params params = Params.parse(spec, nameArgs[1]);
    Divergence d = wrap(spec, () -> e.factory().create(params));
    params.checkAllUsed();
    return d;
  }

  /** {@code name(args)} or {@code name} into {name, args}. */
  private static String[] split(String spec, String s) {
    int open = s.indexOf('(');
    if (open < 0) {
      return new String[] {s.strip(), ""};
    }
    if (!s.endsWith(")")) {
      throw new IllegalArgumentException("divergence '" + spec + "': missing ')'");
    }
    return new String[] {s.substring(0, open).strip(), s.substring(open + 1, s.length() - 1)};
  }

  /** Prefixes a constructor's range error with the spec, so the user sees where it came from. */
  private static Divergence wrap(String spec, java.util.function.Supplier<Divergence> make) {
    try {
      return make.get();
    } catch (IllegalArgumentException ex) {
      if (ex.getMessage() != null && ex.getMessage().startsWith("divergence '")) {
        throw ex;
      }
      throw new IllegalArgumentException("divergence '" + spec + "': " + ex.getMessage(), ex);
    }
  }

  /** Parsed {@code key=value} parameters; each must be consumed by the factory. */
  public static final class Params {
    private final String spec;
    private final Map<String, Double> values;
    private final Map<String, String> raw;

    private Params(String spec, Map<String, Double> values, Map<String, String> raw) {
      this.spec = spec;
      this.values = values;
      this.raw = raw;
    }

    static Params parse(String spec, String args) {
      Map<String, Double> v = new LinkedHashMap<>();
      Map<String, String> raw = new LinkedHashMap<>();
      if (!args.isBlank()) {
        for (String part : args.split(",")) {
          String[] kv = part.split("=", 2);
          if (kv.length != 2) {
            throw new IllegalArgumentException("divergence '" + spec + "': expected key=value, got '" + part.strip() + "'");
          }
          try {
            String key = kv[0].strip();
            if (v.put(key, Double.parseDouble(kv[1].strip())) != null) {
              throw new IllegalArgumentException("divergence '" + spec + "': " + key + " given twice");
            }
            raw.put(key, kv[1].strip());
          } catch (NumberFormatException ex) {
            throw new IllegalArgumentException("divergence '" + spec + "': " + kv[0].strip() + " is not a number: " + kv[1].strip());
          }
        }
      }
      return new Params(spec, v, raw);
    }

    /**
     * The value of {@code p} in the spec, or its default; marks it used. The value is checked against the
     * parameter's bounds as written, before any conversion, so {@code iters=1e12} cannot wrap or saturate.
     *
     * @param p the parameter
     * @return its value
     */
    public float take(Parameter p) {
      return (float) value(p);
    }

    /**
     * The integer value of {@code p} in the spec, or its default; marks it used and checks its bounds.
     *
     * @param p the integer parameter
     * @return its value
     */
    public int takeInt(Parameter p) {
      return (int) value(p);
    }

    private double value(Parameter p) {
      Double d = values.remove(p.key());
      if (d == null) {
        return p.defaultValue();
      }
      if (!p.accepts(d)) {
        throw new IllegalArgumentException(
            "divergence '" + spec + "': " + p.key() + " must be " + p.range() + ", got " + kv(p.key()));
      }
      return d;
    }

    private String kv(String key) {
      return raw.getOrDefault(key, "?");
    }

    void checkAllUsed() {
      if (!values.isEmpty()) {
        throw new IllegalArgumentException("divergence '" + spec + "': unknown parameter(s) " + values.keySet());
      }
    }
  }
}
