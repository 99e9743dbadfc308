package io.pypool.dspy;

import io.pypool.CallOptions;
import io.pypool.StreamOptions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** Per-execute settings: {@code ExecuteOptions.timeout(Duration.ofSeconds(20)).completions(3)}. Immutable. */
public final class ExecuteOptions {
    /** The pool's call timeout, one completion, no LM history. */
    public static final ExecuteOptions DEFAULTS = new ExecuteOptions(null, null, false);

    private final Duration timeout;
    private final Integer completions;
    private final boolean lmHistory;

    private ExecuteOptions(Duration timeout, Integer completions, boolean lmHistory) {
        this.timeout = timeout;
        this.completions = completions;
        this.lmHistory = lmHistory;
    }

    /**
     * One deadline for this execute, waiting for a worker included (the pool's call timeout otherwise).
     *
     * @param timeout a positive duration; for a stream it covers every chunk to the last
     * @return options with that deadline
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public static ExecuteOptions timeout(Duration timeout) {
        return DEFAULTS.withTimeout(timeout);
    }

    /**
     * These options with one deadline for the execute, waiting for a worker included.
     *
     * @param timeout a positive duration; not null
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public ExecuteOptions withTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        return new ExecuteOptions(timeout, completions, lmHistory);
    }

    /**
     * Returns the execute's LM calls with its result ({@link DspyResult#lmHistory()}): the
     * messages sent, the outputs, usage and cost of each. The execute runs on its own copy of the
     * LM, so the history holds its calls and no other's.
     *
     * @return new options; these are unchanged
     */
    public ExecuteOptions withLmHistory() {
        return new ExecuteOptions(timeout, completions, true);
    }

    /**
     * Asks the LM for {@code n} completions ({@link DspyResult#completions()}).
     *
     * @param n at least 1
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code n} is below 1
     */
    public ExecuteOptions completions(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("completions must be at least 1, got " + n);
        }
        return new ExecuteOptions(timeout, n, lmHistory);
    }

    CallOptions callOptions() {
        return timeout == null ? CallOptions.DEFAULTS : CallOptions.timeout(timeout);
    }

    /** For a streamed execute, the timeout covers the whole stream, to its last chunk. */
    StreamOptions streamOptions() {
        return timeout == null ? StreamOptions.DEFAULTS : StreamOptions.DEFAULTS.withTimeout(timeout);
    }

    Map<String, Object> wire() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (completions != null) {
            m.put("n", completions);
        }
        if (lmHistory) {
            m.put("history", true);
        }
        return m;
    }
}
