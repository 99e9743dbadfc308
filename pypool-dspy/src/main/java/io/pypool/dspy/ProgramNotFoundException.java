package io.pypool.dspy;

/** The session has no program with that id (never created, deleted, or reset). */
public final class ProgramNotFoundException extends DspyException {
    public ProgramNotFoundException(String message, Throwable cause) {
        super(message, cause);
    }
}
