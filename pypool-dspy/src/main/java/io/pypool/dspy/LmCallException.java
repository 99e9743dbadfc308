package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;

/** The LM call failed ({@code LMError} and its kinds without a class of their own here: transport, server, billing, invalid request...). */
public class LmCallException extends DspyCallException {
    public LmCallException(String message, Throwable cause, JsonNode details) {
        super(message, cause, details);
    }
}
