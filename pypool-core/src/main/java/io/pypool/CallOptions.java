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

    /** One deadline for the whole call: waiting for a worker plus running in Python. */
    public static CallOptions timeout(Duration timeout) {
        return DEFAULTS.withTimeout(timeout);
    }

    /** The pool's default timeout, and safe to run twice: see {@link #asIdempotent()}. */
    public static CallOptions idempotent() {
        return DEFAULTS.asIdempotent();
    }

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
