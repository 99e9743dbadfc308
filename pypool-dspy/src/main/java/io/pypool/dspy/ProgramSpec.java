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
        /** {@code dspy.Predict}: one LM call from inputs to outputs. */
        PREDICT("predict"),
        /** {@code dspy.ChainOfThought}: the LM reasons step by step first ({@link DspyResult#reasoning()}). */
        CHAIN_OF_THOUGHT("chain_of_thought"),
        /** {@code dspy.ReAct}: an agent loop that calls tools until it can answer. */
        REACT("react");

        final String wire;

        ModuleType(String wire) {
            this.wire = wire;
        }
    }

    /** How DSPy writes the prompt and reads the reply. */
    public enum Adapter {
        /** {@code dspy.ChatAdapter}: fields marked in chat messages (DSPy's default). */
        CHAT("chat"),
        /** {@code dspy.JSONAdapter}: the LM answers with a JSON object (structured output where the provider has it). */
        JSON("json");

        final String wire;

        Adapter(String wire) {
            this.wire = wire;
        }
    }

    private final Map<String, Object> definition;

    private ProgramSpec(Map<String, Object> definition) {
        this.definition = definition;
    }

    /**
     * {@code dspy.Predict} over a string signature.
     *
     * @param signature a DSPy signature such as {@code "question -> answer"} or
     *        {@code "text -> label: Literal['pos', 'neg']"}
     * @return the definition
     * @throws IllegalArgumentException if the signature has no {@code ->}
     */
    public static ProgramSpec of(String signature) {
        return of(signature, ModuleType.PREDICT);
    }

    /**
     * A module of the given type over a string signature.
     *
     * @param signature a DSPy signature such as {@code "question -> answer"}
     * @param moduleType which DSPy module to build; not null
     * @return the definition
     * @throws IllegalArgumentException if the signature has no {@code ->}
     */
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
     *
     * @param signature a DSPy signature such as {@code "question -> answer"}
     * @param tools at least one reference, each given once
     * @return the definition
     * @throws IllegalArgumentException if there is no tool, a reference is malformed or given twice,
     *         or the signature has no {@code ->}
     */
    public static ProgramSpec react(String signature, String... tools) {
        if (tools.length == 0) {
            throw new IllegalArgumentException("a ReAct program needs at least one tool, such as 'py:my_pkg.tools:search'");
        }
        return of(signature, ModuleType.REACT).withTools(tools);
    }

    /**
     * {@code dspy.ReAct} over {@code signature}, with Java tools (registered on the pool with {@link JavaTool#register}).
     *
     * @param signature a DSPy signature such as {@code "question -> answer"}
     * @param tools at least one tool, each given once
     * @return the definition
     * @throws IllegalArgumentException if there is no tool, a tool is given twice, or the signature has no {@code ->}
     */
    public static ProgramSpec react(String signature, JavaTool... tools) {
        if (tools.length == 0) {
            throw new IllegalArgumentException("a ReAct program needs at least one tool");
        }
        return of(signature, ModuleType.REACT).withTools(tools);
    }

    /**
     * Any {@code dspy.Module}, made by a function in the user's own Python code: {@code py:my_pkg.agents:make}.
     *
     * @param reference {@code py:module:function}, the module importable in the workers
     * @return the definition
     * @throws IllegalArgumentException if {@code reference} is not of that form
     */
    public static ProgramSpec factory(String reference) {
        return factory(reference, Map.of());
    }

    /**
     * As {@link #factory(String)}, calling it with these keyword arguments.
     *
     * @param reference {@code py:module:function}, the module importable in the workers
     * @param args keyword arguments for the function: anything Jackson can write; not null
     * @return the definition
     * @throws IllegalArgumentException if {@code reference} is not of that form
     */
    public static ProgramSpec factory(String reference, Map<String, ?> args) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("module", reference(reference, "factory"));
        d.put("args", Map.copyOf(args));
        return new ProgramSpec(d);
    }

    /**
     * A whole program saved with {@code save(dir, save_program=True)}. Loading it runs arbitrary
     * code, so it is refused unless {@link #allowPickle()} is called too.
     *
     * @param directory the directory DSPy saved to, readable by the workers (same machine)
     * @return the definition
     */
    public static ProgramSpec fromPickle(Path directory) {
        return new ProgramSpec(Map.of("pickle_path", directory.toAbsolutePath().toString()));
    }

    /**
     * A signature built field by field, with types and descriptions, instead of a string.
     *
     * @return an empty builder
     */
    public static Builder builder() {
        return new Builder();
    }

    static ProgramSpec withSignature(Object signature, ModuleType moduleType) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("module", Objects.requireNonNull(moduleType, "moduleType").wire);
        d.put("signature", signature);
        return new ProgramSpec(d);
    }

    /**
     * The optimized state as {@code dump_state()} gives it (a Map or Jackson JsonNode), e.g. from {@link DspySession#exportState}.
     *
     * @param state the state; not null
     * @return a new definition; this one is unchanged
     */
    public ProgramSpec withState(Object state) {
        return with("state", Objects.requireNonNull(state, "state"));
    }

    /**
     * The state file {@code program.save("x.json")} wrote, read by the workers (same machine).
     *
     * @param file a {@code .json} state file ({@code .pkl} needs {@link #allowPickle()}); relative
     *        paths are resolved against the JVM's working directory now
     * @return a new definition; this one is unchanged
     */
    public ProgramSpec withStateFile(Path file) {
        return with("state_path", file.toAbsolutePath().toString());
    }

    /**
     * This program's own LM setting over the pool's LM ({@code temperature}, {@code max_tokens}, {@code n}...).
     *
     * @param option a keyword argument of {@code dspy.LM}; not null
     * @param value its value; not null
     * @return a new definition; this one is unchanged
     */
    public ProgramSpec withLm(String option, Object value) {
        Map<String, Object> lm = new LinkedHashMap<>(map("lm"));
        lm.put(Objects.requireNonNull(option, "option"), Objects.requireNonNull(value, "value"));
        return with("lm", Map.copyOf(lm));
    }

    /**
     * How DSPy writes this program's prompts and reads the replies; DSPy's default (chat) otherwise.
     *
     * @param adapter the adapter; not null
     * @return a new definition; this one is unchanged
     */
    public ProgramSpec adapter(Adapter adapter) {
        return with("adapter", adapter.wire);
    }

    /**
     * A keyword argument of the module or factory ({@code max_iters} for ReAct...).
     *
     * @param name the argument's name, as in Python; not null
     * @param value its value: anything Jackson can write; not null
     * @return a new definition; this one is unchanged
     */
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
     *
     * @param tools references, none given before
     * @return a new definition; this one is unchanged
     * @throws IllegalArgumentException if a reference is malformed or given twice
     */
    public ProgramSpec withTools(String... tools) {
        List<String> all = new ArrayList<>(list("tools"));
        for (String tool : tools) {
            all.add(unique(all, reference(tool, "tool")));
        }
        return with("tools", List.copyOf(all));
    }

    /**
     * Adds Java tools, after the tools given before; the definition carries their descriptions and arguments.
     *
     * @param tools the tools, none given before; their functions must be registered on the pool
     *        ({@link JavaTool#register})
     * @return a new definition; this one is unchanged
     * @throws IllegalArgumentException if a tool is given twice
     */
    public ProgramSpec withTools(JavaTool... tools) {
        List<String> all = new ArrayList<>(list("tools"));
        Map<String, Object> specs = new LinkedHashMap<>(map("java_tools"));
        for (JavaTool tool : tools) {
            all.add(unique(all, Objects.requireNonNull(tool, "tool").reference()));
            specs.put(tool.name(), tool.spec());
        }
        return with("tools", List.copyOf(all)).with("java_tools", Collections.unmodifiableMap(specs));
    }

    /**
     * Accepts a whole-program pickle or a {@code .pkl} state: only for files from a source you trust.
     *
     * @return a new definition; this one is unchanged
     */
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

        /**
         * A text input field ({@code str}).
         *
         * @param name the field's name, a Python identifier
         * @param description what it holds, for the LM; null for none
         * @return this builder
         * @throws IllegalArgumentException if {@code name} is not an identifier
         */
        public Builder input(String name, String description) {
            return input(name, "str", description);
        }

        /**
         * An input field of a given type.
         *
         * @param name the field's name, a Python identifier
         * @param type a Python annotation: str, int, list[str], Literal['a', 'b'], Optional[int], dspy.History... ({@link FieldTypes})
         * @param description what it holds, for the LM; null for none
         * @return this builder
         * @throws IllegalArgumentException if {@code name} is not an identifier or {@code type} is blank
         */
        public Builder input(String name, String type, String description) {
            inputs.add(field(name, "type", type, description));
            return this;
        }

        /**
         * A text output field ({@code str}).
         *
         * @param name the field's name, a Python identifier
         * @param description what the LM should put in it; null for none
         * @return this builder
         * @throws IllegalArgumentException if {@code name} is not an identifier
         */
        public Builder output(String name, String description) {
            return output(name, "str", description);
        }

        /**
         * An output field of a given type; DSPy parses the LM's answer into it.
         *
         * @param name the field's name, a Python identifier
         * @param type a Python annotation, as for {@link #input(String, String, String)}
         * @param description what the LM should put in it; null for none
         * @return this builder
         * @throws IllegalArgumentException if {@code name} is not an identifier or {@code type} is blank
         */
        public Builder output(String name, String type, String description) {
            outputs.add(field(name, "type", type, description));
            return this;
        }

        /**
         * A structured output described by a JSON Schema (objects, arrays, enums...): the LM fills it in.
         *
         * @param name the field's name, a Python identifier
         * @param jsonSchema the schema, as maps and lists that Jackson writes as JSON; not null
         * @param description what the LM should put in it; null for none
         * @return this builder
         * @throws IllegalArgumentException if {@code name} is not an identifier
         */
        public Builder outputSchema(String name, Map<String, ?> jsonSchema, String description) {
            outputs.add(field(name, "schema", Map.copyOf(jsonSchema), description));
            return this;
        }

        /**
         * The signature's instructions: what the program does, in the prompt before the fields.
         *
         * @param instructions the text; not null
         * @return this builder
         */
        public Builder instructions(String instructions) {
            this.instructions = Objects.requireNonNull(instructions, "instructions");
            return this;
        }

        /**
         * Builds a {@code dspy.ChainOfThought} over the signature.
         *
         * @return this builder
         */
        public Builder chainOfThought() {
            this.moduleType = ModuleType.CHAIN_OF_THOUGHT;
            return this;
        }

        /**
         * Builds a {@code dspy.Predict} over the signature (the default).
         *
         * @return this builder
         */
        public Builder predict() {
            this.moduleType = ModuleType.PREDICT;
            return this;
        }

        /**
         * The definition of a program over the fields given.
         *
         * @return the definition
         * @throws IllegalArgumentException if there is no input or no output field
         */
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
