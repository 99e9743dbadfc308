package io.pypool.dspy;

/** A DSPy-level failure; the pool-level cause (usually a {@link io.pypool.PythonException}) is chained. */
public class DspyException extends RuntimeException {
    public DspyException(String message, Throwable cause) {
        super(message, cause);
    }
}
