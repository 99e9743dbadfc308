package io.pypool;

/**
 * A call's deadline passed, either while it waited for a worker or while a worker ran it. In the
 * second case the worker is replaced, so that its late reply can never reach another caller.
 */
public final class CallTimeoutException extends PypoolException {
    /** Whether a worker had started the call. */
    private final boolean executing;

    CallTimeoutException(String poolName, String message, boolean executing) {
        super(poolName, message, null);
        this.executing = executing;
    }

    /**
     * True when a worker had started the call; false when it was still waiting for one.
     *
     * @return whether the deadline passed while a worker ran the call (and that worker is replaced)
     */
    public boolean whileExecuting() {
        return executing;
    }
}
