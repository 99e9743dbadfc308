package io.pypool.dspy;

/** A DSPy-level failure; the pool-level cause (usually a {@link io.pypool.PythonException}) is chained. */
public class DspyException extends RuntimeException {
    /**
     * Makes one; pypool-dspy throws its subclasses, and tests of code that handles them may make their own.
     *
     * @param message what failed, in words; the worker's own message where it came from Python
     * @param cause the pool-level failure it came from (usually an {@link io.pypool.PythonException}), or null
     */
    public DspyException(String message, Throwable cause) {
        super(message, cause);
    }
}
