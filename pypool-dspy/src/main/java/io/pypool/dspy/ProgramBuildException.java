package io.pypool.dspy;

/** A program's definition cannot be built: a module, factory or tool reference that cannot be imported, a state that does not fit, or a factory that does not return a {@code dspy.Module}. */
public class ProgramBuildException extends DspyException {
    /**
     * Made by pypool-dspy from the worker's {@code ProgramBuildError} or {@code ReferenceNotFound};
     * public so that tests can make one.
     *
     * @param message what failed, in words; the worker's own message where it came from Python
     * @param cause the pool-level failure it came from (usually an {@link io.pypool.PythonException}), or null
     */
    public ProgramBuildException(String message, Throwable cause) {
        super(message, cause);
    }
}
