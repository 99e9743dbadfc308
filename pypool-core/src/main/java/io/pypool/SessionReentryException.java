package io.pypool;

/**
 * A Java function called back from a session's handler called into that same session: the call
 * could only wait for the handler that is waiting on it, so it fails at once instead.
 */
public final class SessionReentryException extends PypoolException {
    /** The id of the session called into again. */
    private final String sessionId;

    SessionReentryException(String poolName, String sessionId, String message) {
        super(poolName, message, null);
        this.sessionId = sessionId;
    }

    /**
     * The id of the session that the Java function called into.
     *
     * @return the session's id
     */
    public String sessionId() {
        return sessionId;
    }
}
