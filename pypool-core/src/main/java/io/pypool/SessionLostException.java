package io.pypool;

/** The worker that held a session's state is gone (crashed, replaced, or the session expired). */
public final class SessionLostException extends PypoolException {
    private final String sessionId;

    SessionLostException(String poolName, String sessionId, String message) {
        super(poolName, message, null);
        this.sessionId = sessionId;
    }

    public String sessionId() { return sessionId; }
}
