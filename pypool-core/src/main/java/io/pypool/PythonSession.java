package io.pypool;

/**
 * A session: calls that share state kept in one Python worker (the handler's {@code session}
 * parameter). The session is pinned to the least loaded worker on first use, and all of its calls
 * go there. Closing it frees its state in Python. Sessions are safe to use from many threads.
 */
public interface PythonSession extends PythonCaller, AutoCloseable {

    String id();

    /** Frees the session's state in its worker. Later calls start a fresh, empty session. */
    @Override
    void close();
}
