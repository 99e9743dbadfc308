package io.pypool.dspy;

/** DSPy cannot be imported in the workers' interpreter; the message names it and how to install DSPy. */
public final class DspyUnavailableException extends DspyException {
    /**
     * Made by pypool-dspy from the worker's {@code DspyUnavailable} error; public so that tests can make one.
     *
     * @param message what failed, in words; the worker's own message where it came from Python
     * @param cause the pool-level failure it came from (usually an {@link io.pypool.PythonException}), or null
     */
    public DspyUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
