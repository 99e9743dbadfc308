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

    /**
     * An LM that DSPy reaches through LiteLLM, named as {@code dspy.LM} names it.
     *
     * @param model provider and model, such as {@code openai/gpt-4o-mini} or {@code ollama_chat/llama3.2}; not blank
     * @return the configuration, to add an API key and options to
     * @throws IllegalArgumentException if {@code model} is blank
     */
    public static LmConfig model(String model) {
        Objects.requireNonNull(model, "model");
        if (model.isBlank()) {
            throw new IllegalArgumentException("model must name an LM, such as 'openai/gpt-4o-mini'");
        }
        return new LmConfig(Map.of("model", model));
    }

    /**
     * DSPy's own {@code DummyLM}: answers these field-to-value maps in turn, without a network. For tests.
     *
     * @param answers one map of output field to value per LM call, in the order they are used; at least one
     * @return the configuration
     * @throws IllegalArgumentException if {@code answers} is empty
     */
    public static LmConfig dummy(List<Map<String, Object>> answers) {
        if (answers.isEmpty()) {
            throw new IllegalArgumentException("a dummy LM needs at least one answer");
        }
        return new LmConfig(Map.of("model", "pypool/dummy", "answers", List.copyOf(answers)));
    }

    /**
     * DSPy's {@code DummyLM} answering by prompt: the first key found in the last message picks
     * the field-to-value map. Deterministic under concurrency. For tests.
     *
     * @param answers by text to look for in the prompt, the output fields to answer with; at least one
     * @return the configuration
     * @throws IllegalArgumentException if {@code answers} is empty
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
     *
     * @param reference {@code py:module:Class}, the module importable in the workers
     * @return the configuration
     * @throws IllegalArgumentException if {@code reference} is not of that form
     */
    public static LmConfig custom(String reference) {
        Objects.requireNonNull(reference, "reference");
        if (!reference.matches("py:[A-Za-z_][\\w.]*:[A-Za-z_][\\w.]*")) {
            throw new IllegalArgumentException("a custom LM is named as 'py:my_pkg.module:Class', got '" + reference + "'");
        }
        return new LmConfig(Map.of("model", reference));
    }

    /**
     * The provider's API key. It reaches the workers' LM and is never shown by {@link #toString()}.
     *
     * @param apiKey the key; not null
     * @return a new configuration; this one is unchanged
     */
    public LmConfig apiKey(String apiKey) {
        return option("api_key", Objects.requireNonNull(apiKey, "apiKey"));
    }

    /**
     * The sampling temperature.
     *
     * @param temperature 0 or more; 0 is the most deterministic
     * @return a new configuration; this one is unchanged
     * @throws IllegalArgumentException if {@code temperature} is negative
     */
    public LmConfig temperature(double temperature) {
        if (temperature < 0) {
            throw new IllegalArgumentException("temperature must not be negative, got " + temperature);
        }
        return option("temperature", temperature);
    }

    /**
     * The most tokens the LM may write in one reply.
     *
     * @param maxTokens at least 1
     * @return a new configuration; this one is unchanged
     * @throws IllegalArgumentException if {@code maxTokens} is below 1
     */
    public LmConfig maxTokens(int maxTokens) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be positive, got " + maxTokens);
        }
        return option("max_tokens", maxTokens);
    }

    /**
     * Any other keyword argument of {@code dspy.LM}, such as {@code api_base} or {@code cache}.
     *
     * @param name the keyword argument's name, as in Python; not null
     * @param value its value: anything Jackson can write; not null
     * @return a new configuration; this one is unchanged
     */
    public LmConfig option(String name, Object value) {
        Map<String, Object> next = new LinkedHashMap<>(args);
        next.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value for " + name));
        return new LmConfig(next);
    }

    /**
     * The model as given: a LiteLLM name, {@code pypool/dummy}, or a custom LM's reference.
     *
     * @return the model's name
     */
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
