package io.pypool;

/**
 * A pool of warm Python worker processes that any number of threads can call at once.
 *
 * <pre>{@code
 * try (PythonPool pool = PythonPool.builder().handlerModules("my_handlers").workers(4).build()) {
 *     int sum = pool.call("add", Map.of("a", 2, "b", 3), Integer.class);
 *     try (PythonSession s = pool.newSession()) {
 *         s.call("counter.add", Map.of("by", 5));
 *     }
 * }
 * }</pre>
 *
 * Pools share nothing with each other; closing one leaves the others serving.
 */
public interface PythonPool extends PythonCaller, AutoCloseable {

    /**
     * Starts configuring a pool; nothing runs until {@link PythonPoolBuilder#build()}.
     *
     * @return a builder with every option at its default
     */
    static PythonPoolBuilder builder() {
        return new PythonPoolBuilder();
    }

    /**
     * The pool's name, as it appears in logs, metrics and error messages.
     *
     * @return the name given to {@link PythonPoolBuilder#name}, or "pypool-" plus the run id
     */
    String name();

    /**
     * The session with this id; it is created (empty) in Python on its first call. While a session
     * with this id is open, the same session is returned.
     *
     * @param id 1 to 256 characters chosen by the caller (a user or conversation id, for example)
     * @return the session, open
     * @throws IllegalArgumentException if {@code id} is null, empty or longer than 256 characters
     * @throws PoolClosedException if the pool is closed
     */
    PythonSession session(String id);

    /**
     * The session with this id, with its own settings (how many of its calls may run at once,
     * how many may wait). The options apply when the session is created; an open session keeps its own.
     *
     * @param id 1 to 256 characters chosen by the caller
     * @param options the session's limits; not null
     * @return the session, open
     * @throws IllegalArgumentException if {@code id} is null, empty or longer than 256 characters
     * @throws PoolClosedException if the pool is closed
     */
    PythonSession session(String id, SessionOptions options);

    /**
     * A session with a new random id.
     *
     * @return a new session, open, whose id is a random UUID
     * @throws PoolClosedException if the pool is closed
     */
    PythonSession newSession();

    /**
     * Counts of workers, calls and sessions as they are now, read without waiting on any worker.
     *
     * @return a snapshot; it does not change afterwards
     */
    PoolStats stats();

    /**
     * Runs {@code command} with {@code args} on every worker now, and on every worker that starts
     * later (replacements included) before it takes its first call: the way to give all workers
     * the same configuration, such as an LM. A later step with the same {@code key} replaces the
     * earlier one. The step is tried on one worker first and kept only if it succeeds there: a
     * refused step changes nothing anywhere. Once kept, a worker that refuses it is replaced (its
     * replacement runs the step at setup); a new worker that refuses it serves without it, and
     * {@link #health()} says so, rather than being restarted over it forever.
     *
     * @param key names the step; a later step with the same key replaces it
     * @param command the handler that applies the configuration in a worker
     * @param args its arguments; null for none
     * @return completes (on the pool's callback executor) when every ready worker has run it;
     *         fails with the first worker's typed error, or with a {@link PythonException} naming
     *         the workers that refused a step the first one took
     */
    java.util.concurrent.CompletableFuture<Void> configureWorkers(String key, String command, Object args);

    /**
     * What the background health checks saw: HEALTHY, DEGRADED or UNHEALTHY, with one line per
     * problem naming the worker and what was seen. Cheap: it reads state, it does not ping.
     *
     * @return the pool's health as of the last checks
     */
    PoolHealth health();

    /**
     * Stops taking calls, lets accepted calls finish within the grace period, then ends every
     * worker (end of input, then TERM, then KILL) and returns once every Python process of the
     * pool has exited. Calling it again does nothing.
     */
    @Override
    void close();
}
