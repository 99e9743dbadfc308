package io.pypool;

/**
 * The queue of calls waiting for a worker is full; the call was rejected at once, without waiting.
 * Callers usually shed load or retry later; a larger queue only moves the wait into the pool.
 */
public final class PoolSaturatedException extends PypoolException {
    PoolSaturatedException(String poolName, String message) {
        super(poolName, message, null);
    }
}
