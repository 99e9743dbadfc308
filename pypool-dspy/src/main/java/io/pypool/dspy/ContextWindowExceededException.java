package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;

/** The prompt is longer than the model's context window ({@code ContextWindowExceededError}). */
public class ContextWindowExceededException extends LmCallException {
    public ContextWindowExceededException(String message, Throwable cause, JsonNode details) {
        super(message, cause, details);
    }
}
