package io.pypool.dspy;

/** A program ran before {@link Dspy#configureLm} was called on its pool. */
public final class LmNotConfiguredException extends DspyException {
    public LmNotConfiguredException(String message, Throwable cause) {
        super(message, cause);
    }
}
