package io.pypool;

import java.time.Duration;
import java.util.Objects;

/**
 * Per-call settings. Immutable: {@code CallOptions.timeout(Duration.ofSeconds(2))}.
 */
public final class CallOptions {
    /** The pool's default timeout, not idempotent. */
    public static final CallOptions DEFAULTS = new CallOptions(null);

    private final Duration timeout;

    private CallOptions(Duration timeout) {
        this.timeout = timeout;
    }

    /** One deadline for the whole call: waiting for a worker plus running in Python. */
    public static CallOptions timeout(Duration timeout) {
        return DEFAULTS.withTimeout(timeout);
    }

    public CallOptions withTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        return new CallOptions(timeout);
    }

    /** The call's own timeout, or null for the pool's default. */
    Duration timeoutOrNull() {
        return timeout;
    }

    @Override
    public String toString() {
        return "CallOptions{timeout=" + (timeout == null ? "pool default" : timeout) + "}";
    }
}
