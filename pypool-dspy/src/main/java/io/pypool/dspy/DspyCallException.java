package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * DSPy raised one of its own errors ({@code dspy.utils.exceptions}) while a program ran. The
 * subclasses name the kinds a caller handles differently ({@link LmRateLimitException},
 * {@link AdapterParseException}...); every one carries DSPy's structured fields.
 */
public class DspyCallException extends DspyException {
    /** DSPy's structured fields, as the worker sent them. */
    private final JsonNode details;

    /**
     * Made by pypool-dspy from a DSPy error of a kind without a class of its own here; public so
     * that tests can make one.
     *
     * @param message what failed, in words, as DSPy put it
     * @param cause the pool-level failure it came from (usually an {@link io.pypool.PythonException}), or null
     * @param details DSPy's structured fields as a JSON object ({@code types}, {@code code}, {@code model},
     *        {@code status}, {@code retry_after}, ...); not null: an empty object when DSPy set none
     */
    public DspyCallException(String message, Throwable cause, JsonNode details) {
        super(message, cause);
        this.details = details;
    }

    /**
     * DSPy's error class, such as {@code LMRateLimitError}.
     *
     * @return the most specific class name, or {@code DSPyError} when the worker named none
     */
    public String dspyType() {
        return dspyTypes().isEmpty() ? "DSPyError" : dspyTypes().get(0);
    }

    /**
     * DSPy's error class and its bases, most specific first.
     *
     * @return the class names, not modifiable; empty when the worker named none
     */
    public List<String> dspyTypes() {
        List<String> out = new ArrayList<>();
        details.path("types").forEach(t -> out.add(t.asText()));
        return List.copyOf(out);
    }

    /**
     * DSPy's stable error code ({@code rate_limit}, {@code context_window_exceeded}...), where set.
     *
     * @return the code, or empty
     */
    public Optional<String> code() {
        return text("code");
    }

    /**
     * The model the failed request was for, as DSPy names it ({@code openai/gpt-4o-mini}), where set.
     *
     * @return the model's name, or empty
     */
    public Optional<String> model() {
        return text("model");
    }

    /**
     * The provider's HTTP status, where the error came from a response.
     *
     * @return the status code, or empty
     */
    public OptionalInt status() {
        JsonNode s = details.get("status");
        return s == null || !s.canConvertToInt() ? OptionalInt.empty() : OptionalInt.of(s.asInt());
    }

    /**
     * How long the provider asked to wait before retrying, where it said.
     *
     * @return the wait, to the millisecond, or empty
     */
    public Optional<Duration> retryAfter() {
        JsonNode s = details.get("retry_after");
        return s == null || !s.isNumber() ? Optional.empty() : Optional.of(Duration.ofMillis(Math.round(s.asDouble() * 1000)));
    }

    /**
     * Every structured field DSPy set on the error, as JSON.
     *
     * @return a JSON object, never null (empty when DSPy set no field)
     */
    public JsonNode details() {
        return details;
    }

    Optional<String> text(String field) {
        JsonNode v = details.get(field);
        return v == null || v.isNull() ? Optional.empty() : Optional.of(v.asText());
    }
}
