package io.pypool;

/**
 * A session: calls that share state kept in one Python worker (the handler's {@code session}
 * parameter). The session is pinned to the least loaded worker on first use, and all of its calls
 * go there. Closing it frees its state in Python, after the calls already made.
 *
 * <p>Sessions are safe to use from many threads: a session's calls form a strand. They run in the
 * order they were made and, by default, one at a time ({@code maxInFlightPerSession}, or
 * {@link SessionOptions#withMaxInFlight} when the session is opened), so a handler never sees the
 * session's state change under it. The price is throughput: one shared session serves its calls
 * one after another on one worker, however many threads call it and however many slots the worker
 * has (other sessions and anonymous calls use those). Give independent work its own sessions, or
 * let one session overlap its calls and guard its state in Python.
 */
public interface PythonSession extends PythonCaller, AutoCloseable {

    /**
     * The session's id, as given to {@link PythonPool#session(String)} or made by {@link PythonPool#newSession()}.
     *
     * @return the id
     */
    String id();

    /**
     * Registers how to rebuild this session's state: if its worker is lost (crash, hang,
     * recycling), the session moves to another worker, runs {@code command} with {@code args}
     * there first, and its calls go on transparently. Calls that were running on the lost worker
     * still fail with {@link WorkerCrashedException}. Without a restore step such a session fails
     * with {@link SessionLostException}.
     *
     * @param command a handler that takes the session and rebuilds its state
     * @param args its arguments, kept and sent again at each restore; null for none
     * @return this session
     */
    PythonSession onRestore(String command, Object args);

    /**
     * Frees the session's state in its worker (asynchronously, after the session's earlier calls).
     * Later calls through this handle fail with {@link SessionLostException}; {@code pool.session(id)}
     * opens a fresh session under the same id.
     */
    @Override
    void close();
}
