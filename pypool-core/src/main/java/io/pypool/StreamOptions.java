package io.pypool;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of one streamed call ({@link PythonCaller#stream}). Immutable:
 * {@code StreamOptions.DEFAULTS.withTimeout(Duration.ofMinutes(2)).withIdleTimeout(Duration.ofSeconds(10))}.
 *
 * <p>The <em>window</em> is how far the Python generator may run ahead of the consumer: at most
 * {@code windowItems} items and about {@code windowBytes} bytes (one item may overdraw the bytes)
 * sent and not yet consumed. Python takes the next item from the generator only while it holds
 * credit, and the consumer gives credit back as it takes items, so a slow consumer makes the
 * generator wait instead of any buffer grow.
 */
public final class StreamOptions {
    /** The pool's call timeout for the whole stream, no idle timeout, a window of 64 items and 1 MiB. */
    public static final StreamOptions DEFAULTS = new StreamOptions(null, null, 64, 1 << 20, false);

    private final Duration timeout;
    private final Duration idleTimeout;
    private final int windowItems;
    private final long windowBytes;
    private final boolean idempotent;

    private StreamOptions(Duration timeout, Duration idleTimeout, int windowItems, long windowBytes, boolean idempotent) {
        this.timeout = timeout;
        this.idleTimeout = idleTimeout;
        this.windowItems = windowItems;
        this.windowBytes = windowBytes;
        this.idempotent = idempotent;
    }

    /**
     * One deadline for the whole stream: waiting for a worker, then every item to the end.
     *
     * @param timeout a positive duration, counted from when the stream is opened; not null
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public StreamOptions withTimeout(Duration timeout) {
        return new StreamOptions(positive("timeout", timeout), idleTimeout, windowItems, windowBytes, idempotent);
    }

    /**
     * Fails the stream with {@link CallTimeoutException} when the worker sends nothing for this
     * long while the consumer waits for an item (time the consumer spends elsewhere never counts).
     *
     * @param idleTimeout a positive duration; not null
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code idleTimeout} is zero or negative
     */
    public StreamOptions withIdleTimeout(Duration idleTimeout) {
        return new StreamOptions(timeout, positive("idleTimeout", idleTimeout), windowItems, windowBytes, idempotent);
    }

    /**
     * How far Python may run ahead of the consumer (see the class comment).
     *
     * @param items at most this many items sent and not yet consumed, 1 to 1,048,576
     * @param bytes about this many bytes of them (one item may overdraw it), at least 1
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code items} or {@code bytes} is out of range
     */
    public StreamOptions withWindow(int items, long bytes) {
        if (items < 1 || items > 1 << 20) {
            throw new IllegalArgumentException("window items = '" + items + "' is invalid: must be between 1 and " + (1 << 20));
        }
        if (bytes < 1) {
            throw new IllegalArgumentException("window bytes = '" + bytes + "' is invalid: must be positive");
        }
        return new StreamOptions(timeout, idleTimeout, items, bytes, idempotent);
    }

    /**
     * Safe to run twice: if the worker dies before the stream's first item, it is run once more on
     * another worker. Once an item was delivered it never is (the consumer would see items twice).
     *
     * @return new options, idempotent; these are unchanged
     */
    public StreamOptions asIdempotent() {
        return new StreamOptions(timeout, idleTimeout, windowItems, windowBytes, true);
    }

    private static Duration positive(String what, Duration d) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, got " + d);
        }
        return d;
    }

    Duration timeoutOrNull() {
        return timeout;
    }

    Duration idleTimeoutOrNull() {
        return idleTimeout;
    }

    int windowItems() {
        return windowItems;
    }

    long windowBytes() {
        return windowBytes;
    }

    boolean isIdempotent() {
        return idempotent;
    }

    @Override
    public String toString() {
        return "StreamOptions{timeout=" + (timeout == null ? "pool default" : timeout) + ", idleTimeout="
                + (idleTimeout == null ? "none" : idleTimeout) + ", window=" + windowItems + " items/" + windowBytes
                + " bytes, idempotent=" + idempotent + "}";
    }
}
