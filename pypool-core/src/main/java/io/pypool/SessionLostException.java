package io.pypool;

/** The worker that held a session's state is gone (crashed, replaced, or the session expired). */
public final class SessionLostException extends PypoolException {
    /** The id of the session that was lost. */
    private final String sessionId;

    SessionLostException(String poolName, String sessionId, String message) {
        super(poolName, message, null);
        this.sessionId = sessionId;
    }

    /**
     * The id of the session that was lost.
     *
     * @return the session's id; {@code pool.session(id)} opens a fresh, empty session under it
     */
    public String sessionId() { return sessionId; }
}
