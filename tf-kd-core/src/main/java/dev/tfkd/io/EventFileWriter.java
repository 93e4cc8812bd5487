package dev.tfkd.io;

import com.google.protobuf.ByteString;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.SessionLog;
import org.tensorflow.proto.Summary;

/**
 * Writes a TensorBoard event file: a TFRecord file of {@code tensorflow.Event} protos, the first one carrying the
 * file version {@code brain.Event:2}, the others scalar summaries. Each record is
 * {@code uint64 length, uint32 masked_crc32c(length), bytes data, uint32 masked_crc32c(data)}, little-endian,
 * where {@code masked(c) = ((c >>> 15) | (c << 17)) + 0xa282ead8}.
 *
 * <p>The file is append-only: it is flushed to disk by {@link #flush()}; a process killed while writing leaves at
 * most one torn record at the end, which TensorBoard skips. Not thread-safe; owns its file, close it.
 */
public final class EventFileWriter implements AutoCloseable {
  /** The file name prefix TensorBoard looks for. */
  public static final String PREFIX = "events.out.tfevents.";

  private final Path file;
  private final FileChannel channel;
  private final OutputStream out;

  private EventFileWriter(Path file) throws IOException {
    this.file = file;
    this.channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    this.out = new BufferedOutputStream(Channels.newOutputStream(channel));
  }

  /**
   * Creates a new event file in {@code dir} named {@code events.out.tfevents.<seconds>.<host>.<suffix>} and writes
   * the version record.
   *
   * @param suffix makes the name unique when several files are opened within a second (e.g. a resumed run)
   */
  public static EventFileWriter create(Path dir, String host, String suffix) throws IOException {
    Files.createDirectories(dir);
    long now = System.currentTimeMillis();
    Path file = dir.resolve(PREFIX + (now / 1000) + "." + host + "." + suffix);
    EventFileWriter w = new EventFileWriter(file);
    try {
      w.write(Event.newBuilder().setWallTime(now / 1000.0).setFileVersion("brain.Event:2").build());
      return w;
    } catch (IOException | RuntimeException e) {
      w.close();
      throw e;
    }
  }

  /**
   * The event file being written.
   *
   * @return the file
   */
  public Path file() {
    return file;
  }

  /** Adds a scalar {@code tag = value} at {@code step}. */
  public void scalar(String tag, long step, double value) throws IOException {
    write(
        Event.newBuilder()
            .setWallTime(System.currentTimeMillis() / 1000.0)
            .setStep(step)
            .setSummary(Summary.newBuilder().addValue(Summary.Value.newBuilder().setTag(tag).setSimpleValue((float) value)))
            .build());
  }

  /**
   * Marks a restart at {@code step}: TensorBoard then drops the events a killed run wrote at later steps, which the
   * resumed run writes again.
   */
  public void restart(long step) throws IOException {
    write(
        Event.newBuilder()
            .setWallTime(System.currentTimeMillis() / 1000.0)
            .setStep(step)
            .setSessionLog(SessionLog.newBuilder().setStatus(SessionLog.SessionStatus.START))
            .build());
  }

  /** Appends one record holding {@code event}. */
  public void write(Event event) throws IOException {
    out.write(record(event.toByteString()));
  }

  /** Pushes everything written so far to disk. */
  public void flush() throws IOException {
    out.flush();
    channel.force(false);
  }

  /** One TFRecord: the framed {@code data}. */
  public static byte[] record(ByteString data) {
    return TfRecord.frame(data.toByteArray());
  }

  @Override
  public void close() throws IOException {
    try {
      flush();
    } finally {
      out.close();
    }
  }
}
