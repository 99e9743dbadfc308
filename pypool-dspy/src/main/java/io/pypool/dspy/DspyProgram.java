package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** A program in a session: run it with its input fields, get its output fields back. */
public final class DspyProgram {
    private final DspySession session;
    private final String id;
    private final List<String> inputs;
    private final List<String> outputs;

    DspyProgram(DspySession session, String id, List<String> inputs, List<String> outputs) {
        this.session = session;
        this.id = id;
        this.inputs = inputs;
        this.outputs = outputs;
    }

    public String id() {
        return id;
    }

    public List<String> inputFields() {
        return inputs;
    }

    public List<String> outputFields() {
        return outputs;
    }

    /**
     * Runs the program on the session's worker with the configured LM.
     *
     * @throws io.pypool.BadArgumentsException when an input field is missing or unknown
     * @throws ProgramNotFoundException when the program was deleted
     * @throws LmNotConfiguredException before {@link Dspy#configureLm}
     */
    public DspyResult execute(Map<String, ?> inputs) throws InterruptedException {
        Objects.requireNonNull(inputs, "inputs");
        JsonNode reply = session.call("dspy.execute_program", Map.of("program_id", id, "inputs", inputs));
        Map<String, JsonNode> out = new LinkedHashMap<>();
        reply.get("outputs").fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue()));
        JsonNode reasoning = reply.get("reasoning");
        return new DspyResult(out, reasoning == null || reasoning.isNull() ? null : reasoning.asText());
    }

    @Override
    public String toString() {
        return "DspyProgram[" + id + ": " + inputs + " -> " + outputs + "]";
    }
}
