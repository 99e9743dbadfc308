package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;

/** The provider refused the credentials ({@code LMAuthError}). */
public class LmAuthException extends LmCallException {
    public LmAuthException(String message, Throwable cause, JsonNode details) {
        super(message, cause, details);
    }
}
