package io.pypool;

/**
 * A Java function called back from a session's handler called into that same session: the call
 * could only wait for the handler that is waiting on it, so it fails at once instead.
 */
public final class SessionReentryException extends PypoolException {
    private final String sessionId;

    SessionReentryException(String poolName, String sessionId, String message) {
        super(poolName, message, null);
        this.sessionId = sessionId;
    }

    public String sessionId() {
        return sessionId;
    }
}
