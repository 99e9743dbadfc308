package io.pypool.dspy;

/** A session's worker state was lost (worker gone, session expired or evicted) and its programs could not be rebuilt from the definitions this side keeps; the message says why. */
public class SessionProgramsLostException extends DspyException {
    /**
     * Made by pypool-dspy from a lost session whose programs could not be rebuilt; public so that tests can make one.
     *
     * @param message what failed, in words; the worker's own message where it came from Python
     * @param cause the pool-level failure it came from (usually an {@link io.pypool.PythonException}), or null
     */
    public SessionProgramsLostException(String message, Throwable cause) {
        super(message, cause);
    }
}
