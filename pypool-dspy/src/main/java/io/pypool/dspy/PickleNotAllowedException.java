package io.pypool.dspy;

/** A whole-program pickle (or a {@code .pkl} state) was offered without {@link ProgramSpec#allowPickle()}: loading one runs arbitrary code. */
public class PickleNotAllowedException extends ProgramBuildException {
    public PickleNotAllowedException(String message, Throwable cause) {
        super(message, cause);
    }
}
