package io.pypool.dspy;

/** DSPy cannot be imported in the workers' interpreter; the message names it and how to install DSPy. */
public final class DspyUnavailableException extends DspyException {
    public DspyUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
