package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;

/** The provider refused the credentials ({@code LMAuthError}). */
public class LmAuthException extends LmCallException {
    /**
     * Made by pypool-dspy from DSPy's {@code LMAuthError}; public so that tests can make one.
     *
     * @param message what failed, in words, as DSPy put it
     * @param cause the pool-level failure it came from (usually an {@link io.pypool.PythonException}), or null
     * @param details DSPy's structured fields as a JSON object ({@code types}, {@code code}, {@code model},
     *        {@code status}, {@code retry_after}, ...); not null: an empty object when DSPy set none
     */
    public LmAuthException(String message, Throwable cause, JsonNode details) {
        super(message, cause, details);
    }
}
