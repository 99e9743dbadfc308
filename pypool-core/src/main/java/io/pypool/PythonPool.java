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

    static PythonPoolBuilder builder() {
        return new PythonPoolBuilder();
    }

    String name();

    /** The session with this id; it is created (empty) in Python on its first call. */
    PythonSession session(String id);

    /**
     * The session with this id, with its own settings (how many of its calls may run at once,
     * how many may wait). The options apply when the session is created; an open session keeps its own.
     */
    PythonSession session(String id, SessionOptions options);

    /** A session with a new random id. */
    PythonSession newSession();

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
     * @return completes (on the pool's callback executor) when every ready worker has run it;
     *         fails with the first worker's typed error, or with a {@link PythonException} naming
     *         the workers that refused a step the first one took
     */
    java.util.concurrent.CompletableFuture<Void> configureWorkers(String key, String command, Object args);

    /**
     * What the background health checks saw: HEALTHY, DEGRADED or UNHEALTHY, with one line per
     * problem naming the worker and what was seen. Cheap: it reads state, it does not ping.
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
