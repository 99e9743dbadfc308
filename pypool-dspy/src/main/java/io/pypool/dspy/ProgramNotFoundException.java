package io.pypool.dspy;

/** The session has no program with that id (never created, deleted, or reset). */
public final class ProgramNotFoundException extends DspyException {
    /**
     * Made by pypool-dspy from the worker's {@code ProgramNotFound} error; public so that tests can make one.
     *
     * @param message what failed, in words; the worker's own message where it came from Python
     * @param cause the pool-level failure it came from (usually an {@link io.pypool.PythonException}), or null
     */
    public ProgramNotFoundException(String message, Throwable cause) {
        super(message, cause);
    }
}
