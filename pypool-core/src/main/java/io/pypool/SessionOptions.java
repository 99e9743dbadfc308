package io.pypool;

/**
 * Per-session settings, given when the session is opened with {@link PythonPool#session(String, SessionOptions)}.
 * Immutable: {@code SessionOptions.DEFAULTS.withMaxInFlight(4)}. Unset values follow the pool's
 * {@code maxInFlightPerSession} and {@code maxQueuedCallsPerSession}.
 */
public final class SessionOptions {
    /** The pool's defaults. */
    public static final SessionOptions DEFAULTS = new SessionOptions(0, 0);

    private final int maxInFlight;
    private final int maxQueuedCalls;

    private SessionOptions(int maxInFlight, int maxQueuedCalls) {
        this.maxInFlight = maxInFlight;
        this.maxQueuedCalls = maxQueuedCalls;
    }

    /**
     * How many of this session's calls may run at once in its worker. 1 (the pool's default)
     * runs them one after another in the order they were made, so handlers never see the
     * session's state change under them; more lets independent calls of one session overlap,
     * and then the handlers must guard the state themselves.
     *
     * @param max 1 to 1024
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code max} is outside 1 to 1024
     */
    public SessionOptions withMaxInFlight(int max) {
        if (max < 1 || max > 1024) {
            throw new IllegalArgumentException("maxInFlight = '" + max + "' is invalid: must be between 1 and 1024");
        }
        return new SessionOptions(max, maxQueuedCalls);
    }

    /**
     * How many of this session's calls may wait for their turn; one more is refused (or waits, under the WAIT policy).
     *
     * @param max 1 to 10,000,000
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code max} is outside 1 to 10,000,000
     */
    public SessionOptions withMaxQueuedCalls(int max) {
        if (max < 1 || max > 10_000_000) {
            throw new IllegalArgumentException("maxQueuedCalls = '" + max + "' is invalid: must be between 1 and 10000000");
        }
        return new SessionOptions(maxInFlight, max);
    }

    int maxInFlightOr(int poolDefault) {
        return maxInFlight == 0 ? poolDefault : maxInFlight;
    }

    int maxQueuedCallsOr(int poolDefault) {
        return maxQueuedCalls == 0 ? poolDefault : maxQueuedCalls;
    }

    @Override
    public String toString() {
        return "SessionOptions{maxInFlight=" + (maxInFlight == 0 ? "pool default" : maxInFlight)
                + ", maxQueuedCalls=" + (maxQueuedCalls == 0 ? "pool default" : maxQueuedCalls) + "}";
    }
}
