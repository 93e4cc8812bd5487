package dev.tfkd.data.io;

/** The range a label read from a file may take. */
final class Labels {
  private Labels() {}

  /**
   * The largest class count inferred from the labels when none is given. Far beyond any classification dataset, it
   * keeps a corrupt label (say 2,147,483,647) from making the class count overflow or the trainer allocate
   * gigabytes of one-hot rows and per-class counters.
   */
  static final int MAX_CLASSES = 1 << 20;

  /** The exclusive upper bound of a label: the given class count, or {@link #MAX_CLASSES}. */
  static int bound(int numClasses) {
    return numClasses > 0 ? numClasses : MAX_CLASSES;
  }
}
