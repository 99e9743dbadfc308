package io.pypool.dspy;

/** A program ran before {@link Dspy#configureLm} was called on its pool. */
public final class LmNotConfiguredException extends DspyException {
    /**
     * Made by pypool-dspy from the worker's {@code LmNotConfigured} error; public so that tests can make one.
     *
     * @param message what failed, in words; the worker's own message where it came from Python
     * @param cause the pool-level failure it came from (usually an {@link io.pypool.PythonException}), or null
     */
    public LmNotConfiguredException(String message, Throwable cause) {
        super(message, cause);
    }
}
