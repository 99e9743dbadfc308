package io.pypool.dspy;

/** A program's definition cannot be built: a module, factory or tool reference that cannot be imported, a state that does not fit, or a factory that does not return a {@code dspy.Module}. */
public class ProgramBuildException extends DspyException {
    public ProgramBuildException(String message, Throwable cause) {
        super(message, cause);
    }
}
