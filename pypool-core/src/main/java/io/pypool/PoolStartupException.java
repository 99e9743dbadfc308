package io.pypool;

/**
 * The pool could not get its workers ready: the interpreter is missing, a handler module failed to
 * import, or the startup timeout passed. No Python process of the pool is left running.
 */
public final class PoolStartupException extends PypoolException {
    PoolStartupException(String poolName, String message, Throwable cause) {
        super(poolName, message, cause);
    }
}
