package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A program's outputs by field name (deep JSON: lists, objects, dates as ISO text), the reasoning
 * where the module produced one, the LM token usage by model, and every completion when several
 * were asked for.
 */
public final class DspyResult {
    private final Map<String, JsonNode> outputs;
    private final String reasoning;
    private final JsonNode usage;
    private final List<Map<String, JsonNode>> completions;
    private final List<JsonNode> lmHistory;

    DspyResult(Map<String, JsonNode> outputs, String reasoning, JsonNode usage, List<Map<String, JsonNode>> completions,
               List<JsonNode> lmHistory) {
        this.outputs = Map.copyOf(outputs);
        this.reasoning = reasoning;
        this.usage = usage;
        this.completions = List.copyOf(completions);
        this.lmHistory = List.copyOf(lmHistory);
    }

    static DspyResult from(JsonNode reply) {
        JsonNode reasoning = reply.get("reasoning");
        List<Map<String, JsonNode>> completions = new ArrayList<>();
        reply.path("completions").forEach(c -> completions.add(fields(c)));
        JsonNode usage = reply.get("usage");
        List<JsonNode> history = new ArrayList<>();
        reply.path("lm_history").forEach(history::add);
        return new DspyResult(fields(reply.get("outputs")), reasoning == null || reasoning.isNull() ? null : reasoning.asText(),
                usage == null || usage.isNull() ? null : usage, completions, history);
    }

    private static Map<String, JsonNode> fields(JsonNode object) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        object.properties().forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /**
     * The output field as text.
     *
     * @param field an output field's name
     * @return the text of a string output; the JSON of any other (a number, a list, an object)
     * @throws IllegalArgumentException if the program has no such output field
     */
    public String get(String field) {
        JsonNode value = node(field);
        return value.isTextual() ? value.asText() : value.toString();
    }

    /**
     * The output field as JSON, for typed outputs (int, list, objects...).
     *
     * @param field an output field's name
     * @return the field's value; a null node where the LM gave none
     * @throws IllegalArgumentException if the program has no such output field
     */
    public JsonNode node(String field) {
        JsonNode value = outputs.get(field);
        if (value == null) {
            throw new IllegalArgumentException("no output field '" + field + "'; the outputs are " + outputs.keySet());
        }
        return value;
    }

    /**
     * Every output field by name.
     *
     * @return the fields, not modifiable
     */
    public Map<String, JsonNode> outputs() {
        return outputs;
    }

    /**
     * This execute's LM calls (model, messages, outputs, usage, cost, timestamp of each), when
     * asked for with {@link ExecuteOptions#withLmHistory()}; empty otherwise.
     *
     * @return one JSON object per LM call, oldest first; not modifiable
     */
    public List<JsonNode> lmHistory() {
        return lmHistory;
    }

    /**
     * The reasoning the module produced before its outputs ({@code dspy.ChainOfThought} and kin).
     *
     * @return the reasoning, or empty where the module gives none
     */
    public Optional<String> reasoning() {
        return Optional.ofNullable(reasoning);
    }

    /**
     * Token usage by model, as DSPy tracked it ({@code {"openai/gpt-4o-mini": {"total_tokens": 120, ...}}}).
     *
     * @return the usage, or empty where DSPy did not track it
     */
    public Optional<JsonNode> usage() {
        return Optional.ofNullable(usage);
    }

    /**
     * Every completion's fields when {@link ExecuteOptions#completions(int)} asked for more than one; else empty.
     *
     * @return one map of output fields per completion; not modifiable
     */
    public List<Map<String, JsonNode>> completions() {
        return completions;
    }

    @Override
    public String toString() {
        return "DspyResult" + outputs + (reasoning == null ? "" : " reasoning=" + reasoning);
    }
}
