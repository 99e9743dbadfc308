package io.pypool;

import java.time.Duration;
import java.util.Objects;

/**
 * Per-call settings. Immutable: {@code CallOptions.timeout(Duration.ofSeconds(2)).asIdempotent()}.
 */
public final class CallOptions {
    /** The pool's default timeout, not idempotent. */
    public static final CallOptions DEFAULTS = new CallOptions(null, false);

    private final Duration timeout;
    private final boolean idempotent;

    private CallOptions(Duration timeout, boolean idempotent) {
        this.timeout = timeout;
        this.idempotent = idempotent;
    }

    /**
     * One deadline for the whole call: waiting for a worker plus running in Python.
     *
     * @param timeout a positive duration, counted from when the call is made
     * @return options with that timeout, not idempotent
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public static CallOptions timeout(Duration timeout) {
        return DEFAULTS.withTimeout(timeout);
    }

    /**
     * The pool's default timeout, and safe to run twice: see {@link #asIdempotent()}.
     *
     * @return options for an idempotent call with the pool's default timeout
     */
    public static CallOptions idempotent() {
        return DEFAULTS.asIdempotent();
    }

    /**
     * These options with one deadline for the whole call: waiting for a worker plus running in Python.
     *
     * @param timeout a positive duration, counted from when the call is made; not null
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public CallOptions withTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        return new CallOptions(timeout, idempotent);
    }

    /**
     * Marks the call as safe to run twice. If its worker dies while running it, the pool runs it
     * once more on another worker within the same deadline. Nothing else is ever retried.
     *
     * @return new options, idempotent; these are unchanged
     */
    public CallOptions asIdempotent() {
        return new CallOptions(timeout, true);
    }

    /** The call's own timeout, or null for the pool's default. */
    Duration timeoutOrNull() {
        return timeout;
    }

    boolean isIdempotent() {
        return idempotent;
    }

    @Override
    public String toString() {
        return "CallOptions{timeout=" + (timeout == null ? "pool default" : timeout) + ", idempotent=" + idempotent + "}";
    }
}
