package io.pypool;

/**
 * Told what happens in a pool: calls starting and ending, workers starting, crashing, being
 * replaced and recycled. For metrics and tracing; give it to
 * {@link PythonPoolBuilder#listener(PoolListener)}. Every method does nothing unless overridden.
 *
 * <p>Methods run on the thread that saw the event: a caller's thread, a worker's reader thread
 * or the pool's housekeeping thread. They must be fast and must never block, or they slow down
 * the calls of everyone. An exception a listener throws is caught and logged (at most once a
 * minute per pool), and never changes what happens to a call or a worker.
 *
 * <p>Only callers' calls are reported; the pool's own (pings, setup steps, session restores) are
 * not. A pool without listeners pays nothing for this.
 */
public interface PoolListener {

    /**
     * A caller made a call; it is about to be queued or sent.
     *
     * @param command the command called
     */
    default void callStarted(String command) {}

    /**
     * A call ended.
     *
     * @param command the command called
     * @param outcome how it ended: a result, a Python error, a timeout, ...
     * @param durationNanos from when it was made to when its outcome was known
     * @param queuedNanos how long of that it waited before it was written to a worker (all of it
     *        if it never was)
     */
    default void callEnded(String command, CallOutcome outcome, long durationNanos, long queuedNanos) {}

    /**
     * A worker is ready to serve, {@code startNanos} after its process was launched.
     *
     * @param workerId the worker's id within the pool, such as {@code w3}
     * @param startNanos nanoseconds from launch (or fork) to ready
     */
    default void workerReady(String workerId, long startNanos) {}

    /**
     * A worker could not start (its process failed to launch, exited or timed out before it was ready).
     *
     * @param workerId the worker's id within the pool
     * @param cause what went wrong, in words (the Python error, the exit status, the timeout)
     */
    default void workerStartFailed(String workerId, String cause) {}

    /**
     * A serving worker died without the pool asking it to: a crash, a kill, a protocol error.
     *
     * @param workerId the worker's id within the pool
     * @param cause what was seen, in words (signal or exit code, last stderr lines, the protocol error)
     */
    default void workerCrashed(String workerId, String cause) {}

    /**
     * A new worker takes the slot of {@code oldWorkerId}; it starts now or after a backoff.
     *
     * @param oldWorkerId the worker that is gone
     * @param newWorkerId the worker that takes its slot
     * @param reason why the old one went, in words
     */
    default void workerReplaced(String oldWorkerId, String newWorkerId, String reason) {}

    /**
     * A healthy worker is being replaced after its calls finish (recycleAfterCalls, -Age, -AboveRssBytes).
     *
     * @param workerId the worker being recycled
     * @param reason which limit it reached, in words
     */
    default void workerRecycled(String workerId, String reason) {}

    /**
     * A worker is being ended because a call it runs overran its deadline.
     *
     * @param workerId the worker being ended
     * @param reason how its call overran, in words
     */
    default void workerRetired(String workerId, String reason) {}
}
