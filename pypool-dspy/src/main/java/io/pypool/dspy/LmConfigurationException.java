package io.pypool.dspy;

/** {@link Dspy#configureLm} was refused before anything was saved: a bad setting, DSPy's own checks, or an LM backend that cannot be imported in the workers' interpreter. Every worker keeps the LM it had. */
public class LmConfigurationException extends DspyException {
    public LmConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
