package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Optional;

/**
 * A program's outputs, by field name, and the reasoning where the module produced one
 * (chain of thought).
 */
public final class DspyResult {
    private final Map<String, JsonNode> outputs;
    private final String reasoning;

    DspyResult(Map<String, JsonNode> outputs, String reasoning) {
        this.outputs = Map.copyOf(outputs);
        this.reasoning = reasoning;
    }

    /** The output field as text. */
    public String get(String field) {
        JsonNode value = node(field);
        return value.isTextual() ? value.asText() : value.toString();
    }

    /** The output field as JSON, for typed outputs (int, float, list...). */
    public JsonNode node(String field) {
        JsonNode value = outputs.get(field);
        if (value == null) {
            throw new IllegalArgumentException("no output field '" + field + "'; the outputs are " + outputs.keySet());
        }
        return value;
    }

    public Map<String, JsonNode> outputs() {
        return outputs;
    }

    public Optional<String> reasoning() {
        return Optional.ofNullable(reasoning);
    }

    @Override
    public String toString() {
        return "DspyResult" + outputs + (reasoning == null ? "" : " reasoning=" + reasoning);
    }
}
