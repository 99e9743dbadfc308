package io.pypool.dspy;

/** {@link Dspy#configureLm} was refused before anything was saved: a bad setting, DSPy's own checks, or an LM backend that cannot be imported in the workers' interpreter. Every worker keeps the LM it had. */
public class LmConfigurationException extends DspyException {
    /**
     * Made by pypool-dspy from the worker's {@code LmConfigError}; public so that tests can make one.
     *
     * @param message what failed, in words; the worker's own message where it came from Python
     * @param cause the pool-level failure it came from (usually an {@link io.pypool.PythonException}), or null
     */
    public LmConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
