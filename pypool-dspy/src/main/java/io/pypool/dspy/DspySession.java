package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.PythonSession;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A session's DSPy programs. They live in the session's worker; this side keeps their
 * definitions too, so that if the worker is lost they are rebuilt on another one before the
 * session's next call ({@code dspy.restore_programs}). Safe for use from several threads.
 */
public final class DspySession implements AutoCloseable {
    private final Dspy dspy;
    private final PythonSession session;
    /** Program definitions by id, in creation order: what a new worker needs to rebuild them. */
    private final Map<String, Map<String, Object>> definitions = new LinkedHashMap<>();

    DspySession(Dspy dspy, PythonSession session) {
        this.dspy = dspy;
        this.session = session;
        session.onRestore("dspy.restore_programs", new RestoreArguments());
    }

    public String id() {
        return session.id();
    }

    /** A program from DSPy's string signature, as {@code dspy.Predict}. */
    public DspyProgram program(String signature) throws InterruptedException {
        return program(ProgramSpec.of(signature));
    }

    public DspyProgram program(ProgramSpec spec) throws InterruptedException {
        return program("program-" + UUID.randomUUID().toString().substring(0, 8), spec);
    }

    /** Creates (or replaces) the program {@code programId} in this session. */
    public DspyProgram program(String programId, ProgramSpec spec) throws InterruptedException {
        Map<String, Object> definition = new LinkedHashMap<>();
        definition.put("id", programId);
        definition.put("signature", spec.signatureArgument());
        definition.put("module_type", spec.moduleType().wire);
        JsonNode info = call("dspy.create_program", Map.of("program_id", programId,
                "signature", spec.signatureArgument(), "module_type", spec.moduleType().wire));
        synchronized (definitions) {
            definitions.put(programId, definition);
        }
        return new DspyProgram(this, programId, strings(info.get("inputs")), strings(info.get("outputs")));
    }

    public List<String> listPrograms() throws InterruptedException {
        return strings(call("dspy.list_programs", null));
    }

    public ProgramInfo info(String programId) throws InterruptedException {
        JsonNode info = call("dspy.get_program_info", Map.of("program_id", programId));
        JsonNode instructions = info.get("instructions");
        return new ProgramInfo(info.get("id").asText(), info.get("module_type").asText(), strings(info.get("inputs")),
                strings(info.get("outputs")), instructions == null || instructions.isNull() ? null : instructions.asText());
    }

    /** @return whether the program existed */
    public boolean delete(String programId) throws InterruptedException {
        boolean deleted = call("dspy.delete_program", Map.of("program_id", programId)).get("deleted").asBoolean();
        synchronized (definitions) {
            definitions.remove(programId);
        }
        return deleted;
    }

    /** Deletes every program of this session. */
    public void reset() throws InterruptedException {
        call("dspy.reset", null);
        synchronized (definitions) {
            definitions.clear();
        }
    }

    JsonNode call(String command, Object args) throws InterruptedException {
        try {
            return session.call(command, args);
        } catch (RuntimeException e) {
            throw Dspy.translate(e);
        }
    }

    @Override
    public void close() {
        session.close();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null) {
            array.forEach(n -> out.add(n.asText()));
        }
        return List.copyOf(out);
    }

    /** Serialized when a restore runs, so it always carries the definitions of that moment. */
    private final class RestoreArguments {
        @SuppressWarnings("unused") // read by Jackson
        public List<Map<String, Object>> getPrograms() {
            synchronized (definitions) {
                return new ArrayList<>(definitions.values());
            }
        }
    }
}
