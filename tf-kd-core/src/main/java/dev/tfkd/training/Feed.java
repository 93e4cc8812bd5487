package dev.tfkd.training;

/** Batches handed to the training loop one at a time: {@link BatchFeeder} (data in memory) or {@link StreamFeeder}. */
interface Feed extends AutoCloseable {
  /** The next batch; its tensors belong to the feed. */
  BatchFeeder.Batch next();

  /** Hands a batch back once its step has run. */
  void release(BatchFeeder.Batch batch);

  /** Stops background work and frees every tensor. */
  @Override
  void close();
}
