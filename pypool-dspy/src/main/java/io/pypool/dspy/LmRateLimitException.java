package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;

/** The provider rate-limited the request ({@code LMRateLimitError}); see {@link #retryAfter()}. */
public class LmRateLimitException extends LmCallException {
    public LmRateLimitException(String message, Throwable cause, JsonNode details) {
        super(message, cause, details);
    }
}
