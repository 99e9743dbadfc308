package io.pypool.dspy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A program's definition: a signature and a module type. Either DSPy's string form,
 * {@code ProgramSpec.of("question, context -> answer")}, or fields with types and descriptions:
 * <pre>{@code
 * ProgramSpec.builder()
 *     .input("question", "a question about the context")
 *     .input("context", "facts to answer from")
 *     .output("answer", "one sentence")
 *     .instructions("Answer only from the context.")
 *     .chainOfThought()
 *     .build();
 * }</pre>
 */
public final class ProgramSpec {
    /** How a program runs its signature: {@code dspy.Predict} or {@code dspy.ChainOfThought}. */
    public enum ModuleType {
        PREDICT("predict"), CHAIN_OF_THOUGHT("chain_of_thought");

        final String wire;

        ModuleType(String wire) {
            this.wire = wire;
        }
    }

    private static final Set<String> TYPES = Set.of("str", "int", "float", "bool", "list", "dict");

    private final Object signature;
    private final ModuleType moduleType;

    private ProgramSpec(Object signature, ModuleType moduleType) {
        this.signature = signature;
        this.moduleType = moduleType;
    }

    public static ProgramSpec of(String signature) {
        return of(signature, ModuleType.PREDICT);
    }

    public static ProgramSpec of(String signature, ModuleType moduleType) {
        Objects.requireNonNull(signature, "signature");
        if (!signature.contains("->")) {
            throw new IllegalArgumentException("signature '" + signature + "' needs '->', as in 'question -> answer'");
        }
        return new ProgramSpec(signature, Objects.requireNonNull(moduleType, "moduleType"));
    }

    public static Builder builder() {
        return new Builder();
    }

    public ModuleType moduleType() {
        return moduleType;
    }

    /** The signature as sent to Python: a string, or a map with inputs, outputs and instructions. */
    Object signatureArgument() {
        return signature;
    }

    public static final class Builder {
        private final List<Map<String, String>> inputs = new ArrayList<>();
        private final List<Map<String, String>> outputs = new ArrayList<>();
        private String instructions;
        private ModuleType moduleType = ModuleType.PREDICT;

        private Builder() {}

        public Builder input(String name, String description) {
            return input(name, "str", description);
        }

        /** @param type one of str, int, float, bool, list, dict */
        public Builder input(String name, String type, String description) {
            inputs.add(field(name, type, description));
            return this;
        }

        public Builder output(String name, String description) {
            return output(name, "str", description);
        }

        public Builder output(String name, String type, String description) {
            outputs.add(field(name, type, description));
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
            return new ProgramSpec(Map.copyOf(sig), moduleType);
        }

        private static Map<String, String> field(String name, String type, String description) {
            Objects.requireNonNull(name, "field name");
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new IllegalArgumentException("field name '" + name + "' must be an identifier");
            }
            if (!TYPES.contains(type)) {
                throw new IllegalArgumentException("field '" + name + "' has type '" + type + "'; use one of " + TYPES);
            }
            Map<String, String> f = new LinkedHashMap<>();
            f.put("name", name);
            f.put("type", type);
            if (description != null) {
                f.put("description", description);
            }
            return Map.copyOf(f);
        }
    }
}
