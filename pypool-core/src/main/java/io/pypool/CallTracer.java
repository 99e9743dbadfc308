package io.pypool;

/**
 * Traces a pool's calls: told as each caller's call starts (on the caller's thread, so it can read
 * the caller's current trace), it gives the call a {@link Scope} whose W3C {@code traceparent} goes
 * out in the request, where a handler reads it as {@code pypool.traceparent()} and Python logging
 * records carry it as {@code record.traceparent}. The scope is told once how the call ended.
 * Streams, callbacks and asynchronous calls are calls too. pypool-micrometer's
 * {@code PypoolObservation} builds one on Micrometer's Observation API.
 *
 * <p>Set with {@link PythonPoolBuilder#tracer(CallTracer)}. What a tracer or scope throws is
 * logged and ignored; the call goes on untraced.
 */
@FunctionalInterface
public interface CallTracer {
    /**
     * Called on the caller's thread as one of its calls starts, before the request is written.
     *
     * @param pool      the pool's name
     * @param command   the command called
     * @param sessionId the session's id, or null for a call outside sessions
     * @return the call's scope, or null to leave this call untraced
     */
    Scope start(String pool, String command, String sessionId);

    /** One traced call: what goes out with its request, and what is told at its end. */
    interface Scope {
        /**
         * The trace context sent with the request, as a W3C {@code traceparent}
         * ({@code 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>}); Python ignores one
         * not in that form.
         *
         * @return the traceparent, or null to send none
         */
        String traceparent();

        /**
         * Called once when the call completes, on whichever thread completed it (a worker's
         * reader, a timer, the caller); it must be fast and never block.
         *
         * @param outcome how the call ended
         * @param failure what the caller got (or gets) for a failed call; null for a success
         */
        void end(CallOutcome outcome, Throwable failure);
    }
}
