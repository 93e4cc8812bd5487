package dev.tfkd.objectives;

import java.util.Locale;

/**
 * When the class centroids {@code Q_y} of an MCMI objective are computed. The paper's released code uses
 * {@link #ONCE}.
 */
public enum CentroidPolicy {
  /** Once, by a full pass over the training data with the starting (MLL) model, then held fixed: the paper's. */
  ONCE("once: one full pass before fine-tuning, then fixed (the paper's schedule)"),
  /** Recomputed by a full pass over the training data before every epoch. */
  EPOCH("epoch: a full pass before every epoch"),
  /**
   * Started by a full pass, then after every step moved towards the batch's class means: {@code Q_y <- m Q_y +
   * (1 - m) mean(P_x : y_x = y)}.
   */
  EMA("ema: a full pass, then an exponential moving average of batch class means after every step");

  private final String description;

  CentroidPolicy(String description) {
    this.description = description;
  }

  /**
   * A one-line description for help texts.
   *
   * @return the description
   */
  public String description() {
    return description;
  }

  /** The command-line name: lower case. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a command-line name. */
  public static CentroidPolicy parse(String s) {
    for (CentroidPolicy p : values()) {
      if (p.cliName().equalsIgnoreCase(s.strip())) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown centroid policy '" + s + "'; known: once, epoch, ema");
  }
}
