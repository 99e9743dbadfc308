package io.pypool;

/**
 * A worker broke the wire protocol (garbage on its channel, an oversized or malformed frame, a
 * reply to an unknown request). That worker is ended and replaced; other workers are untouched.
 */
public final class ProtocolException extends PypoolException {
    ProtocolException(String poolName, String message, Throwable cause) {
        super(poolName, message, cause);
    }
}
