package io.pypool.dspy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which LM the workers use: {@code LmConfig.model("openai/gpt-4o-mini").apiKey(key).temperature(0.0)}.
 * Any other keyword argument of {@code dspy.LM} goes through {@link #option}. Immutable.
 */
public final class LmConfig {
    private final Map<String, Object> args;

    private LmConfig(Map<String, Object> args) {
        this.args = Map.copyOf(args);
    }

    public static LmConfig model(String model) {
        Objects.requireNonNull(model, "model");
        if (model.isBlank()) {
            throw new IllegalArgumentException("model must name an LM, such as 'openai/gpt-4o-mini'");
        }
        return new LmConfig(Map.of("model", model));
    }

    /** DSPy's own {@code DummyLM}: answers these field-to-value maps in turn, without a network. For tests. */
    public static LmConfig dummy(List<Map<String, Object>> answers) {
        if (answers.isEmpty()) {
            throw new IllegalArgumentException("a dummy LM needs at least one answer");
        }
        return new LmConfig(Map.of("model", "pypool/dummy", "answers", List.copyOf(answers)));
    }

    /**
     * DSPy's {@code DummyLM} answering by prompt: the first key found in the last message picks
     * the field-to-value map. Deterministic under concurrency. For tests.
     */
    public static LmConfig dummyByPrompt(Map<String, Map<String, Object>> answers) {
        if (answers.isEmpty()) {
            throw new IllegalArgumentException("a dummy LM needs at least one answer");
        }
        return new LmConfig(Map.of("model", "pypool/dummy", "answers", Map.copyOf(answers)));
    }

    /**
     * A custom {@code dspy.BaseLM} from the user's Python code, built with the {@link #option}s as
     * keyword arguments: {@code LmConfig.custom("py:my_pkg.lms:LocalServerLM").option("base_url", url)}.
     */
    public static LmConfig custom(String reference) {
        Objects.requireNonNull(reference, "reference");
        if (!reference.matches("py:[A-Za-z_][\\w.]*:[A-Za-z_][\\w.]*")) {
            throw new IllegalArgumentException("a custom LM is named as 'py:my_pkg.module:Class', got '" + reference + "'");
        }
        return new LmConfig(Map.of("model", reference));
    }

    public LmConfig apiKey(String apiKey) {
        return option("api_key", Objects.requireNonNull(apiKey, "apiKey"));
    }

    public LmConfig temperature(double temperature) {
        if (temperature < 0) {
            throw new IllegalArgumentException("temperature must not be negative, got " + temperature);
        }
        return option("temperature", temperature);
    }

    public LmConfig maxTokens(int maxTokens) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be positive, got " + maxTokens);
        }
        return option("max_tokens", maxTokens);
    }

    /** Any other keyword argument of {@code dspy.LM}, such as {@code api_base} or {@code cache}. */
    public LmConfig option(String name, Object value) {
        Map<String, Object> next = new LinkedHashMap<>(args);
        next.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value for " + name));
        return new LmConfig(next);
    }

    public String modelName() {
        return (String) args.get("model");
    }

    Map<String, Object> asArguments() {
        return args;
    }

    @Override
    public String toString() {
        Map<String, Object> shown = new LinkedHashMap<>(args);
        shown.computeIfPresent("api_key", (k, v) -> "***"); // never log a key
        return "LmConfig" + shown;
    }
}
