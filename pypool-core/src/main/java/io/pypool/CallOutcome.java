package io.pypool;

/**
 * How a call ended, as a {@link PoolListener} sees it: one value per kind of failure a caller can
 * act on, derived from the exception the caller got.
 */
public enum CallOutcome {
    /** The handler returned a result. */
    SUCCESS,
    /** The handler raised (including an unknown command or arguments it rejected). */
    PYTHON_ERROR,
    /** The call's deadline passed ({@link CallTimeoutException}). */
    TIMEOUT,
    /** The pool's queue was full ({@link PoolSaturatedException}). */
    SATURATED,
    /** Its worker died under it ({@link WorkerCrashedException}, or a worker broke the protocol). */
    CRASHED,
    /** Its session could not go on ({@link SessionLostException}). */
    SESSION_LOST,
    /** The caller cancelled it or was interrupted. */
    CANCELLED,
    /** Anything else: the pool closed, for example. */
    OTHER;

    /** The outcome of a call that failed with {@code failure}. */
    static CallOutcome of(Throwable failure) {
        Throwable t = PoolEngine.unwrap(failure);
        if (t instanceof CallTimeoutException) {
            return TIMEOUT;
        }
        if (t instanceof PoolSaturatedException) {
            return SATURATED;
        }
        if (t instanceof WorkerCrashedException || t instanceof ProtocolException) {
            return CRASHED;
        }
        if (t instanceof SessionLostException) {
            return SESSION_LOST;
        }
        if (t instanceof java.util.concurrent.CancellationException) {
            return CANCELLED;
        }
        if (t instanceof PythonException) {
            return PYTHON_ERROR;
        }
        return OTHER;
    }
}
