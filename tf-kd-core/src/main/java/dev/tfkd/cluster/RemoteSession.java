package dev.tfkd.cluster;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.InvocationTargetException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.internal.c_api.global.tensorflow;
import org.tensorflow.proto.ConfigProto;

/**
 * Opens a {@link Session} on a {@code grpc://} target: the session's graph runs on the cluster's tasks, each op on
 * the device it names, and ops that name none on the target's task.
 *
 * <p>TensorFlow Java 1.1.0's public {@code Session} constructors always open a local session (they never call
 * {@code TF_SetTarget}). The session is therefore made with the C API ({@code TF_SetTarget} on the session
 * options, {@code TF_NewSession}), and handed to TensorFlow Java's package-private {@code Session(Graph,
 * TF_Session)} constructor on the graph's private native handle, both reached by reflection. The trade-off: the
 * result is an ordinary {@code Session} on the caller's own {@code Graph} (feeds, fetches, {@code save}/{@code
 * restore}, initializers all work unchanged), at the price of depending on two private members of TensorFlow Java,
 * checked here with a clear error. The alternative (importing the GraphDef into a native graph and running it
 * through {@code TF_SessionRun} directly) would need a second copy of everything a session does.
 *
 * <p>The returned session does not run the graph's initializers by itself: call {@link Session#initialize()} for
 * a fresh run (variables on a parameter server keep their values across sessions).
 */
public final class RemoteSession {
  private RemoteSession() {}

  /**
   * A session on {@code target} running {@code graph}.
   *
   * @param graph the graph (must stay open as long as the session)
   * @param target e.g. {@code grpc://127.0.0.1:2222}
   * @param config session options (threads, timeouts)
   * @return the session; the caller closes it
   * @throws IllegalStateException when this TensorFlow Java does not have the members used, or they are not open
   */
  public static Session open(Graph graph, String target, ConfigProto config) {
    TF_Graph handle = nativeHandle(graph);
    TF_Session session;
    try (PointerScope scope = new PointerScope()) {
      TF_Status status = TF_Status.newStatus();
      TF_SessionOptions options = TF_SessionOptions.newSessionOptions();
      tensorflow.TF_SetTarget(options, target);
      byte[] bytes = config.toByteArray();
      BytePointer b = new BytePointer(bytes);
      tensorflow.TF_SetConfig(options, b, b.capacity(), status);
      status.throwExceptionIfNotOK();
      session = TF_Session.newSession(handle, options, status);
      status.throwExceptionIfNotOK();
      // Kept beyond the pointer scope: the Session below owns and deletes it.
      session.retainReference();
    }
    try {
      Constructor<Session> c = Session.class.getDeclaredConstructor(Graph.class, TF_Session.class);
      c.setAccessible(true);
      return c.newInstance(graph, session);
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("opening a session on " + target + " failed: " + e.getCause(), e.getCause());
    } catch (ReflectiveOperationException | InaccessibleObjectException e) {
      throw unsupported(e);
    }
  }

  /**
   * Frees every variable the cluster's tasks hold in their default resource container, and closes the sessions
   * open on {@code target}. Variables of a {@code VariableV2} live on a parameter server under their names until
   * the task exits: a later run whose graph has a variable of the same name but another shape would otherwise
   * fail to initialise it, and one of the same shape would silently start from the previous run's values.
   *
   * @param target e.g. {@code grpc://127.0.0.1:2222}
   */
  public static void resetVariables(String target) {
    try (PointerScope scope = new PointerScope()) {
      TF_Status status = TF_Status.newStatus();
      TF_SessionOptions options = TF_SessionOptions.newSessionOptions();
      tensorflow.TF_SetTarget(options, target);
      tensorflow.TF_Reset(options, (org.bytedeco.javacpp.PointerPointer<?>) null, 0, status);
      status.throwExceptionIfNotOK();
    }
  }

  private static TF_Graph nativeHandle(Graph graph) {
    try {
      Field f = Graph.class.getDeclaredField("nativeHandle");
      f.setAccessible(true);
      TF_Graph h = (TF_Graph) f.get(graph);
      if (h == null || h.isNull()) {
        throw new IllegalStateException("the graph is closed");
      }
      return h;
    } catch (ReflectiveOperationException | InaccessibleObjectException | ClassCastException e) {
      throw unsupported(e);
    }
  }

  private static IllegalStateException unsupported(Exception e) {
    return new IllegalStateException(
        "a session on a cluster needs TensorFlow Java 1.1.0's Graph.nativeHandle and Session(Graph, TF_Session) "
            + "(when tf-kd runs on the module path: --add-opens tensorflow/org.tensorflow=dev.tfkd.core): " + e,
        e);
  }
}
