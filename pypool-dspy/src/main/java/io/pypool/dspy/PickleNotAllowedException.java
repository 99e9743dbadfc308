package io.pypool.dspy;

/** A whole-program pickle (or a {@code .pkl} state) was offered without {@link ProgramSpec#allowPickle()}: loading one runs arbitrary code. */
public class PickleNotAllowedException extends ProgramBuildException {
    /**
     * Made by pypool-dspy from the worker's {@code PickleNotAllowed} error; public so that tests can make one.
     *
     * @param message what failed, in words; the worker's own message where it came from Python
     * @param cause the pool-level failure it came from (usually an {@link io.pypool.PythonException}), or null
     */
    public PickleNotAllowedException(String message, Throwable cause) {
        super(message, cause);
    }
}
