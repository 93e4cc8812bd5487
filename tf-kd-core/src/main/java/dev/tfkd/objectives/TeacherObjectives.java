package dev.tfkd.objectives;

import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.Objective;
import java.util.Locale;
import java.util.Objects;

/**
 * The registry of teacher objectives by name. {@code dev.tfkd.run.TeacherTrainer} trains a teacher with each.
 *
 * <ul>
 *   <li>{@code mll}: cross-entropy (maximum log-likelihood).
 *   <li>{@code mcmi}: MLL training, then fine-tuning with {@code CE - lambda * CMI} ({@link Mcmi}, {@link
 *       McmiFineTune}).
 *   <li>{@code cmim}: {@code CE + lambda * sum_T CMI_T} from scratch ({@link Cmim}).
 *   <li>{@code mse}: squared error between softmax and one-hot ({@link MseToOneHot}).
 *   <li>{@code label-smoothing}: CE with smoothed targets ({@link LabelSmoothing}).
 * </ul>
 */
public final class TeacherObjectives {
  private TeacherObjectives() {}

  /** The registered objectives. */
  public enum Kind {
    /** Cross-entropy with the labels. */
    MLL("mll", "cross-entropy with the labels (maximum log-likelihood)"),
    /** Maximum conditional mutual information (cross-entropy minus lambda times the CMI). */
    MCMI(
        "mcmi",
        "MLL, then fine-tune with CE - lambda*mean KL(P_x||Q_y), centroids Q held constant (Ye et al., ICLR 2024)"),
    /** Cross-entropy plus CMI over several temperatures. */
    CMIM("cmim", "CE + lambda * sum over T=1,2,4,8 of the CMI with batch centroids (undistillable teachers, 2025)"),
    /** Mean squared error between softmax and one-hot labels. */
    MSE("mse", "mean squared error between softmax and one-hot label (ECCV 2024)"),
    /** Cross-entropy with smoothed labels. */
    LABEL_SMOOTHING("label-smoothing", "CE with targets (1-eps)*onehot + eps/K");

    private final String cliName;
    private final String description;

    Kind(String cliName, String description) {
      this.cliName = cliName;
      this.description = description;
    }

    /**
     * The name on the command line.
     *
     * @return the name
     */
    public String cliName() {
      return cliName;
    }

    /**
     * A one-line description for help texts.
     *
     * @return the description
     */
    public String description() {
      return description;
    }

    /** Parses a command-line name. */
    public static Kind parse(String s) {
      for (Kind k : values()) {
        if (k.cliName.equalsIgnoreCase(s.strip())) {
          return k;
        }
      }
      throw new IllegalArgumentException(
          "unknown teacher objective '" + s + "'; known: mll, mcmi, cmim, mse, label-smoothing");
    }
  }

  /**
   * A teacher objective with its parameters.
   *
   * @param kind which objective
   * @param lambda the CMI weight of mcmi and cmim
   * @param smoothing epsilon of label-smoothing
   * @param fineTune the MCMI fine-tuning phase (its lambda is {@code lambda}); used by mcmi only
   */
  public record Spec(Kind kind, float lambda, float smoothing, McmiFineTune fineTune) {
    /**
     * Validates the spec; throws NullPointerException for a missing part and IllegalArgumentException for a bad
     * parameter.
     */
    public Spec {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(fineTune, "fineTune");
      if (!(lambda >= 0) || Float.isInfinite(lambda)) {
        throw new IllegalArgumentException("lambda must be finite and >= 0, got " + lambda);
      }
      if (!(smoothing >= 0 && smoothing < 1)) {
        throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + smoothing);
      }
    }

    /** {@code kind} with default parameters (lambda 0.15, smoothing 0.1, the paper's fine-tuning). */
    public static Spec of(Kind kind) {
      return new Spec(kind, McmiFineTune.DEFAULT_LAMBDA, LabelSmoothing.DEFAULT_EPSILON, McmiFineTune.paper(0.15f));
    }

    /** The objective of the (first) training phase; for mcmi that is MLL. */
    public Objective firstPhase() {
      return switch (kind) {
        case MLL, MCMI -> new CrossEntropy();
        case CMIM -> new Cmim(lambda, Cmim.DEFAULT_TEMPERATURES);
        case MSE -> new MseToOneHot();
        case LABEL_SMOOTHING -> new LabelSmoothing(smoothing);
      };
    }

    /**
     * A one-line description of this objective and its parameters.
     *
     * @return the description
     */
    public String describe() {
      return switch (kind) {
        case MCMI ->
            "mcmi: ce, then " + fineTune.epochs() + " epochs of ce - " + lambda + "*cmi (centroids "
                + fineTune.centroids().cliName() + ")";
        default -> kind.cliName() + ": " + firstPhase().describe();
      };
    }
  }

  /** Lower-case names of every objective, for help texts. */
  public static String names() {
    StringBuilder b = new StringBuilder();
    for (Kind k : Kind.values()) {
      b.append(b.length() == 0 ? "" : ", ").append(k.cliName().toLowerCase(Locale.ROOT));
    }
    return b.toString();
  }
}
