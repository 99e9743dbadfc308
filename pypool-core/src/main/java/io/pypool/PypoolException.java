package io.pypool;

/**
 * The base of every failure a pool reports. Each subclass names one thing that went wrong; the
 * message says what happened, to which pool and worker, and what the pool looked like then.
 */
public abstract class PypoolException extends RuntimeException {
    /** The name of the pool that reported the failure. */
    private final String poolName;

    PypoolException(String poolName, String message, Throwable cause) {
        super("pool '" + poolName + "': " + message, cause);
        this.poolName = poolName;
    }

    /**
     * The name of the pool that reported the failure.
     *
     * @return the pool's name, as {@link PythonPool#name()} gives it
     */
    public String poolName() {
        return poolName;
    }
}
