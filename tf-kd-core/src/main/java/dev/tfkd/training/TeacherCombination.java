package dev.tfkd.training;

import java.util.Arrays;
import java.util.Locale;

/**
 * How the divergences to several teachers become one soft loss ({@link MultiTeacherDistillation}). With teachers
 * {@code m = 1..M}, per-example divergence {@code D(z_s, z_m)} (temperature T and its {@code T^2} factor belong to
 * the divergence, as for one teacher):
 *
 * <ul>
 *   <li>{@link Mode#MEAN_PROBS} ({@code mean-probs}): one ensemble teacher, the mean of the teachers' probabilities
 *       at the divergence's temperature, {@code pbar = (1/M) sum_m softmax(z_m / T)}, given to the divergence as the
 *       logits {@code T log pbar} (whose softmax at T is {@code pbar}): {@code D(z_s, T log pbar)}, scaled by
 *       {@code T^2} once. Needs a divergence with one constant temperature (not CSWT, not {@code mse-logits}).
 *   <li>{@link Mode#MEAN_LOSS} ({@code mean-loss}): {@code (1/M) sum_m D(z_s, z_m)}, each term with its {@code T^2}:
 *       the mean is scaled by {@code T^2} once (AVER-MKD, "average loss").
 *   <li>{@link Mode#WEIGHTED} ({@code weighted}): {@code sum_m w_m D(z_s, z_m)} with fixed weights {@code w_m >= 0},
 *       normalised to sum 1; {@code T^2} once.
 *   <li>{@link Mode#CONFIDENCE} ({@code ca-mkd}): per-example weights from each teacher's cross-entropy on the
 *       label, as CA-MKD does (Zhang, Chen and Wang, "Confidence-Aware Multi-Teacher Knowledge Distillation",
 *       ICASSP 2022): {@code CE_mi = -log softmax(z_mi)[y_i]} (T = 1), {@code w_mi = (1 - softmax_m(CE_i)[m]) /
 *       (M - 1)} (so {@code sum_m w_mi = 1}, and a teacher that is more sure of the right label weighs more; one
 *       teacher gets weight 1), and the soft loss {@code mean_i sum_m w_mi D_i(z_s, z_m)}; {@code T^2} once. The
 *       weights carry no gradient. The authors' code also divides this by M; here that factor is left to the
 *       KD weight, so the scale matches one teacher's.
 *   <li>{@link Mode#RANDOM} ({@code random}): each training batch draws one teacher uniformly, {@code D(z_s,
 *       z_m(batch))}; {@code T^2} once. The draw for epoch {@code e}, step {@code s} is a pure function of the run's
 *       seed, {@code e} and {@code s} ({@link TeacherDraw}), so a resumed run draws what the uninterrupted one did.
 * </ul>
 *
 * @param mode the combination
 * @param weights the teachers' weights for {@link Mode#WEIGHTED}, normalised to sum 1; empty for the other modes
 */
public record TeacherCombination(Mode mode, float[] weights) {
  /** The ways to combine several teachers. */
  public enum Mode {
    /** The mean of the teachers' probabilities as one teacher. */
    MEAN_PROBS("mean-probs"),
    /** The mean of the per-teacher divergences. */
    MEAN_LOSS("mean-loss"),
    /** Fixed weights per teacher. */
    WEIGHTED("weighted"),
    /** CA-MKD's per-example confidence weights. */
    CONFIDENCE("ca-mkd"),
    /** One teacher drawn per batch. */
    RANDOM("random");

    private final String cliName;

    Mode(String cliName) {
      this.cliName = cliName;
    }

    /** The name on the command line and in configuration files. */
    public String cliName() {
      return cliName;
    }

    /**
     * The mode named {@code name} ({@link #cliName()}, case-insensitive).
     *
     * @throws IllegalArgumentException naming the modes when it names none
     */
    public static Mode parse(String name) {
      for (Mode m : values()) {
        if (m.cliName.equalsIgnoreCase(name.trim())) {
          return m;
        }
      }
      throw new IllegalArgumentException(
          "unknown teacher combination '" + name + "'; one of " + String.join(", ", names()));
    }

    /** Every mode's name. */
    public static java.util.List<String> names() {
      return Arrays.stream(values()).map(Mode::cliName).toList();
    }
  }

  /** Validates the weights (given only, and all of them finite and {@code >= 0}, for WEIGHTED) and normalises them. */
  public TeacherCombination {
    java.util.Objects.requireNonNull(mode, "mode");
    weights = weights == null ? new float[0] : weights.clone();
    if (mode == Mode.WEIGHTED) {
      if (weights.length == 0) {
        throw new IllegalArgumentException("weighted teachers need one weight per teacher");
      }
      double sum = 0;
      for (float w : weights) {
        if (!(w >= 0) || Float.isInfinite(w)) {
          throw new IllegalArgumentException("teacher weights must be finite and >= 0, got " + Arrays.toString(weights));
        }
        sum += w;
      }
      if (!(sum > 0)) {
        throw new IllegalArgumentException("teacher weights are all 0");
      }
      for (int i = 0; i < weights.length; i++) {
        weights[i] = (float) (weights[i] / sum);
      }
    } else if (weights.length != 0) {
      throw new IllegalArgumentException("teacher weights apply to the weighted combination only, not " + mode.cliName());
    }
  }

  /** The mean of the teachers' probabilities. */
  public static TeacherCombination meanOfProbabilities() {
    return new TeacherCombination(Mode.MEAN_PROBS, null);
  }

  /** The mean of the per-teacher divergences. */
  public static TeacherCombination meanOfLosses() {
    return new TeacherCombination(Mode.MEAN_LOSS, null);
  }

  /** Fixed weights, one per teacher in order (normalised to sum 1). */
  public static TeacherCombination weighted(float... weights) {
    return new TeacherCombination(Mode.WEIGHTED, weights);
  }

  /** CA-MKD's per-example confidence weights. */
  public static TeacherCombination confidence() {
    return new TeacherCombination(Mode.CONFIDENCE, null);
  }

  /** One teacher drawn per batch, seeded by the run's seed. */
  public static TeacherCombination randomPerBatch() {
    return new TeacherCombination(Mode.RANDOM, null);
  }

  /**
   * The combination named {@code name} ({@link Mode#cliName()}); {@code weights} are used by {@code weighted} only
   * and must be empty for the others.
   */
  public static TeacherCombination of(String name, float[] weights) {
    return new TeacherCombination(Mode.parse(name), weights);
  }

  /** The weights (a copy). */
  @Override
  public float[] weights() {
    return weights.clone();
  }

  /** {@code ca-mkd}, or {@code weighted(0.7, 0.3)} with the normalised weights. */
  public String describe() {
    if (mode != Mode.WEIGHTED) {
      return mode.cliName();
    }
    StringBuilder s = new StringBuilder("weighted(");
    for (int i = 0; i < weights.length; i++) {
      s.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4g", weights[i]));
    }
    return s.append(')').toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TeacherCombination c && c.mode == mode && Arrays.equals(c.weights, weights);
  }

  @Override
  public int hashCode() {
    return mode.hashCode() * 31 + Arrays.hashCode(weights);
  }

  @Override
  public String toString() {
    return describe();
  }
}
