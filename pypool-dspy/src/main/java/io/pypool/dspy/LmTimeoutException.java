package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;

/** The provider's request timed out ({@code LMTimeoutError}). */
public class LmTimeoutException extends LmCallException {
    public LmTimeoutException(String message, Throwable cause, JsonNode details) {
        super(message, cause, details);
    }
}
