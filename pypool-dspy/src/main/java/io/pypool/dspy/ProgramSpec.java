package io.pypool.dspy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A program's definition: its structure (a module type with a signature, a user's factory, or a
 * whole-program pickle) plus the state an optimizer left ({@code program.save(path)} /
 * {@code dump_state()}), and its own LM settings and adapter. Immutable; plain JSON underneath, so
 * the program can be rebuilt on any worker.
 * <pre>{@code
 * ProgramSpec.of("question -> answer")                                        // dspy.Predict
 * ProgramSpec.of("text -> label: Literal['pos', 'neg']", ModuleType.CHAIN_OF_THOUGHT)
 * ProgramSpec.react("question -> answer", "py:my_pkg.tools:search").withArg("max_iters", 5)
 * ProgramSpec.react("question -> answer", lookupOrder).withTools("py:my_pkg.tools:search") // a JavaTool, then a Python one
 * ProgramSpec.factory("py:my_pkg.agents:make_support_agent", Map.of("tone", "brief"))
 *     .withStateFile(Path.of("/srv/programs/support.json"))                   // what program.save wrote
 * ProgramSpec.builder().input("text", "the review").output("label", FieldTypes.literal("pos", "neg"), null)
 *     .instructions("Classify the review.").chainOfThought().build().withLm("temperature", 0.0)
 * }</pre>
 */
public final class ProgramSpec {
    /** The module types built from a signature. */
    public enum ModuleType {
        PREDICT("predict"), CHAIN_OF_THOUGHT("chain_of_thought"), REACT("react");

        final String wire;

        ModuleType(String wire) {
            this.wire = wire;
        }
    }

    /** How DSPy writes the prompt and reads the reply. */
    public enum Adapter {
        CHAT("chat"), JSON("json");

        final String wire;

        Adapter(String wire) {
            this.wire = wire;
        }
    }

    private final Map<String, Object> definition;

    private ProgramSpec(Map<String, Object> definition) {
        this.definition = definition;
    }

    public static ProgramSpec of(String signature) {
        return of(signature, ModuleType.PREDICT);
    }

    public static ProgramSpec of(String signature, ModuleType moduleType) {
        Objects.requireNonNull(signature, "signature");
        if (!signature.contains("->")) {
            throw new IllegalArgumentException("signature '" + signature + "' needs '->', as in 'question -> answer'");
        }
        return withSignature(signature, moduleType);
    }

    /**
     * {@code dspy.ReAct} over {@code signature}, with tools by reference: Python functions
     * ({@code py:my_pkg.tools:search}) or Java functions registered with the pool ({@code java:name}).
     */
    public static ProgramSpec react(String signature, String... tools) {
        if (tools.length == 0) {
            throw new IllegalArgumentException("a ReAct program needs at least one tool, such as 'py:my_pkg.tools:search'");
        }
        return of(signature, ModuleType.REACT).withTools(tools);
    }

    /** {@code dspy.ReAct} over {@code signature}, with Java tools (registered on the pool with {@link JavaTool#register}). */
    public static ProgramSpec react(String signature, JavaTool... tools) {
        if (tools.length == 0) {
            throw new IllegalArgumentException("a ReAct program needs at least one tool");
        }
        return of(signature, ModuleType.REACT).withTools(tools);
    }

    /** Any {@code dspy.Module}, made by a function in the user's own Python code: {@code py:my_pkg.agents:make}. */
    public static ProgramSpec factory(String reference) {
        return factory(reference, Map.of());
    }

    /** As {@link #factory(String)}, calling it with these keyword arguments. */
    public static ProgramSpec factory(String reference, Map<String, ?> args) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("module", reference(reference, "factory"));
        d.put("args", Map.copyOf(args));
        return new ProgramSpec(d);
    }

    /**
     * A whole program saved with {@code save(dir, save_program=True)}. Loading it runs arbitrary
     * code, so it is refused unless {@link #allowPickle()} is called too.
     */
    public static ProgramSpec fromPickle(Path directory) {
        return new ProgramSpec(Map.of("pickle_path", directory.toAbsolutePath().toString()));
    }

    public static Builder builder() {
        return new Builder();
    }

    static ProgramSpec withSignature(Object signature, ModuleType moduleType) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("module", Objects.requireNonNull(moduleType, "moduleType").wire);
        d.put("signature", signature);
        return new ProgramSpec(d);
    }

    /** The optimized state as {@code dump_state()} gives it (a Map or Jackson JsonNode), e.g. from {@link DspySession#exportState}. */
    public ProgramSpec withState(Object state) {
        return with("state", Objects.requireNonNull(state, "state"));
    }

    /** The state file {@code program.save("x.json")} wrote, read by the workers (same machine). */
    public ProgramSpec withStateFile(Path file) {
        return with("state_path", file.toAbsolutePath().toString());
    }

    /** This program's own LM setting over the pool's LM ({@code temperature}, {@code max_tokens}, {@code n}...). */
    public ProgramSpec withLm(String option, Object value) {
        Map<String, Object> lm = new LinkedHashMap<>(map("lm"));
        lm.put(Objects.requireNonNull(option, "option"), Objects.requireNonNull(value, "value"));
        return with("lm", Map.copyOf(lm));
    }

    public ProgramSpec adapter(Adapter adapter) {
        return with("adapter", adapter.wire);
    }

    /** A keyword argument of the module or factory ({@code max_iters} for ReAct...). */
    public ProgramSpec withArg(String name, Object value) {
        Map<String, Object> args = new LinkedHashMap<>(map("args"));
        args.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
        return with("args", Map.copyOf(args));
    }

    /**
     * Adds tools for ReAct (or a factory's {@code tools} argument), after those given before:
     * {@code py:my_pkg.tools:search}, or {@code java:name} for a function registered with
     * {@code PythonPoolBuilder.javaFunction} (described to the LM only as a Java function taking
     * keyword arguments; a {@link JavaTool} describes itself).
     */
    public ProgramSpec withTools(String... tools) {
        List<String> all = new ArrayList<>(list("tools"));
        for (String tool : tools) {
            all.add(unique(all, reference(tool, "tool")));
        }
        return with("tools", List.copyOf(all));
    }

    /** Adds Java tools, after the tools given before; the definition carries their descriptions and arguments. */
    public ProgramSpec withTools(JavaTool... tools) {
        List<String> all = new ArrayList<>(list("tools"));
        Map<String, Object> specs = new LinkedHashMap<>(map("java_tools"));
        for (JavaTool tool : tools) {
            all.add(unique(all, Objects.requireNonNull(tool, "tool").reference()));
            specs.put(tool.name(), tool.spec());
        }
        return with("tools", List.copyOf(all)).with("java_tools", Collections.unmodifiableMap(specs));
    }

    /** Accepts a whole-program pickle or a {@code .pkl} state: only for files from a source you trust. */
    public ProgramSpec allowPickle() {
        return with("allow_pickle", true);
    }

    /** The definition as sent to Python, under this id. */
    Map<String, Object> definition(String id) {
        Map<String, Object> d = new LinkedHashMap<>(definition);
        d.put("id", id);
        return d;
    }

    @Override
    public String toString() {
        return "ProgramSpec" + definition;
    }

    private ProgramSpec with(String key, Object value) {
        Map<String, Object> d = new LinkedHashMap<>(definition);
        d.put(key, value);
        return new ProgramSpec(d);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> map(String key) {
        Object v = definition.get(key);
        return v == null ? Map.of() : (Map<String, Object>) v;
    }

    @SuppressWarnings("unchecked")
    private List<String> list(String key) {
        Object v = definition.get(key);
        return v == null ? List.of() : (List<String>) v;
    }

    private static String unique(List<String> tools, String ref) {
        if (tools.contains(ref)) {
            throw new IllegalArgumentException("tool '" + ref + "' is given twice");
        }
        return ref;
    }

    private static String reference(String ref, String what) {
        Objects.requireNonNull(ref, what);
        // Only a tool can be a Java function: a factory or an LM must be Python objects.
        boolean java = what.equals("tool") && ref.startsWith("java:") && !ref.substring("java:".length()).isBlank();
        if (!ref.matches("py:[A-Za-z_][\\w.]*:[A-Za-z_][\\w.]*") && !java) {
            throw new IllegalArgumentException(what + " '" + ref + "' must be a reference such as 'py:my_pkg.module:name'"
                    + (what.equals("tool") ? " or 'java:name'" : ""));
        }
        return ref;
    }

    /** A signature from fields with types and descriptions. */
    public static final class Builder {
        private final List<Map<String, Object>> inputs = new ArrayList<>();
        private final List<Map<String, Object>> outputs = new ArrayList<>();
        private String instructions;
        private ModuleType moduleType = ModuleType.PREDICT;

        private Builder() {}

        public Builder input(String name, String description) {
            return input(name, "str", description);
        }

        /** @param type a Python annotation: str, int, list[str], Literal['a', 'b'], Optional[int], dspy.History... ({@link FieldTypes}) */
        public Builder input(String name, String type, String description) {
            inputs.add(field(name, "type", type, description));
            return this;
        }

        public Builder output(String name, String description) {
            return output(name, "str", description);
        }

        public Builder output(String name, String type, String description) {
            outputs.add(field(name, "type", type, description));
            return this;
        }

        /** A structured output described by a JSON Schema (objects, arrays, enums...): the LM fills it in. */
        public Builder outputSchema(String name, Map<String, ?> jsonSchema, String description) {
            outputs.add(field(name, "schema", Map.copyOf(jsonSchema), description));
            return this;
        }

        public Builder instructions(String instructions) {
            this.instructions = Objects.requireNonNull(instructions, "instructions");
            return this;
        }

        public Builder chainOfThought() {
            this.moduleType = ModuleType.CHAIN_OF_THOUGHT;
            return this;
        }

        public Builder predict() {
            this.moduleType = ModuleType.PREDICT;
            return this;
        }

        public ProgramSpec build() {
            if (inputs.isEmpty() || outputs.isEmpty()) {
                throw new IllegalArgumentException("a program needs at least one input and one output field");
            }
            Map<String, Object> sig = new LinkedHashMap<>();
            sig.put("inputs", List.copyOf(inputs));
            sig.put("outputs", List.copyOf(outputs));
            if (instructions != null) {
                sig.put("instructions", instructions);
            }
            return withSignature(Map.copyOf(sig), moduleType);
        }

        private static Map<String, Object> field(String name, String kind, Object type, String description) {
            Objects.requireNonNull(name, "field name");
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new IllegalArgumentException("field name '" + name + "' must be an identifier");
            }
            if (type == null || type instanceof String s && s.isBlank()) {
                throw new IllegalArgumentException("field '" + name + "' needs a type, such as str or list[str]");
            }
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("name", name);
            f.put(kind, type);
            if (description != null) {
                f.put("description", description);
            }
            return Map.copyOf(f);
        }
    }
}
