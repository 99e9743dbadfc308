package io.pypool.dspy;

/** A session's worker state was lost (worker gone, session expired or evicted) and its programs could not be rebuilt from the definitions this side keeps; the message says why. */
public class SessionProgramsLostException extends DspyException {
    public SessionProgramsLostException(String message, Throwable cause) {
        super(message, cause);
    }
}
