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
    private final JsonNode details;

    public DspyCallException(String message, Throwable cause, JsonNode details) {
        super(message, cause);
        this.details = details;
    }

    /** DSPy's error class, such as {@code LMRateLimitError}. */
    public String dspyType() {
        return dspyTypes().isEmpty() ? "DSPyError" : dspyTypes().get(0);
    }

    /** DSPy's error class and its bases, most specific first. */
    public List<String> dspyTypes() {
        List<String> out = new ArrayList<>();
        details.path("types").forEach(t -> out.add(t.asText()));
        return List.copyOf(out);
    }

    /** DSPy's stable error code ({@code rate_limit}, {@code context_window_exceeded}...), where set. */
    public Optional<String> code() {
        return text("code");
    }

    public Optional<String> model() {
        return text("model");
    }

    /** The provider's HTTP status, where the error came from a response. */
    public OptionalInt status() {
        JsonNode s = details.get("status");
        return s == null || !s.canConvertToInt() ? OptionalInt.empty() : OptionalInt.of(s.asInt());
    }

    /** How long the provider asked to wait before retrying, where it said. */
    public Optional<Duration> retryAfter() {
        JsonNode s = details.get("retry_after");
        return s == null || !s.isNumber() ? Optional.empty() : Optional.of(Duration.ofMillis(Math.round(s.asDouble() * 1000)));
    }

    /** Every structured field DSPy set on the error, as JSON. */
    public JsonNode details() {
        return details;
    }

    Optional<String> text(String field) {
        JsonNode v = details.get(field);
        return v == null || v.isNull() ? Optional.empty() : Optional.of(v.asText());
    }
}
