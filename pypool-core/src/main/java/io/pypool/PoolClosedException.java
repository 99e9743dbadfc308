package io.pypool;

/** The pool was closed before the call could run. */
public final class PoolClosedException extends PypoolException {
    PoolClosedException(String poolName, String message) {
        super(poolName, message, null);
    }
}
