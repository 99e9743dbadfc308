package io.pypool;

/** What a call does when the queue it would wait in is full. */
public enum SaturationPolicy {
    /** Fail at once with {@link PoolSaturatedException} (the default): the caller learns of overload now. */
    FAIL,
    /**
     * A blocking call waits for room within its own deadline, and fails with
     * {@link CallTimeoutException} (saying it waited for room) if none comes: for fan-out from
     * many virtual threads. {@code callAsync} never waits: it fails at once as under FAIL.
     */
    WAIT
}
