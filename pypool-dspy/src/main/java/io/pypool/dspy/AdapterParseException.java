package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;

/** DSPy's adapter could not read the output fields out of the LM's reply ({@code AdapterParseError}). */
public final class AdapterParseException extends DspyCallException {
    public AdapterParseException(String message, Throwable cause, JsonNode details) {
        super(message, cause, details);
    }

    /** The LM's reply as it came, which the adapter could not parse. */
    public String lmResponse() {
        return text("lm_response").orElse("");
    }
}
