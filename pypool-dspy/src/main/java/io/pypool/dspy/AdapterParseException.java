package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;

/** DSPy's adapter could not read the output fields out of the LM's reply ({@code AdapterParseError}). */
public final class AdapterParseException extends DspyCallException {
    /**
     * Made by pypool-dspy from DSPy's {@code AdapterParseError}; public so that tests can make one.
     *
     * @param message what failed, in words, as DSPy put it
     * @param cause the pool-level failure it came from (usually an {@link io.pypool.PythonException}), or null
     * @param details DSPy's structured fields as a JSON object ({@code types}, {@code code}, {@code model},
     *        {@code status}, {@code retry_after}, ...); not null: an empty object when DSPy set none
     */
    public AdapterParseException(String message, Throwable cause, JsonNode details) {
        super(message, cause, details);
    }

    /**
     * The LM's reply as it came, which the adapter could not parse.
     *
     * @return the reply's text; empty where DSPy did not include it
     */
    public String lmResponse() {
        return text("lm_response").orElse("");
    }
}
