package io.pypool.dspy;

import io.pypool.JavaFunction;
import io.pypool.PythonPoolBuilder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A ReAct tool implemented in Java: the LM sees its name, description and arguments; when it
 * calls the tool, the workers call {@link #function()} back with the arguments the LM gave, and
 * what it returns is the tool's observation. Immutable.
 * <pre>{@code
 * JavaTool orders = JavaTool.of("lookup_order", "The status of an order.",
 *                 args -> orderService.status(args.get("order_id").asInt()))
 *         .withArg("order_id", JavaTool.ArgType.INTEGER, "the order's number");
 * PythonPool pool = JavaTool.register(Dspy.poolBuilder(), orders).workers(2).build();  // the function, on the pool
 * DspyProgram agent = Dspy.on(pool).definePoolProgram("agent",
 *         ProgramSpec.react("question -> answer", orders));                          // the tool, in a program
 * }</pre>
 * What the function throws is the tool's error: ReAct shows it to the LM in the trajectory and
 * goes on. A program may also name any function registered with
 * {@link PythonPoolBuilder#javaFunction} as {@code "java:name"}, without a JavaTool: that tool is
 * described to the LM only as a Java function taking keyword arguments.
 */
public final class JavaTool {
    /** JSON Schema types of arguments; DSPy checks the LM's values against them before calling Java. */
    public enum ArgType {
        /** Text: the function gets a JSON string. */
        STRING("string"),
        /** A whole number: the function gets a JSON integer. */
        INTEGER("integer"),
        /** Any number: the function gets a JSON integer or floating-point number. */
        NUMBER("number"),
        /** true or false. */
        BOOLEAN("boolean"),
        /** A JSON array, of any items ({@link #withArgSchema} says which). */
        ARRAY("array"),
        /** A JSON object, of any fields ({@link #withArgSchema} says which). */
        OBJECT("object");

        final String wire;

        ArgType(String wire) {
            this.wire = wire;
        }
    }

    /** Names that every LM provider accepts for a function (OpenAI's rule, the strictest). */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final Pattern ARG = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String name;
    private final String description;
    private final JavaFunction function;
    private final Map<String, Map<String, Object>> args; // argument -> JSON schema, in order
    private final List<String> required;

    private JavaTool(String name, String description, JavaFunction function, Map<String, Map<String, Object>> args,
                     List<String> required) {
        this.name = name;
        this.description = description;
        this.function = function;
        this.args = args;
        this.required = required;
    }

    /**
     * A tool without arguments so far; add them with {@link #withArg}.
     *
     * @param name the tool's name for the LM and the function's name on the pool: 1-64 letters, digits, '_' or '-'
     * @param description what the tool does, for the LM to choose it; not blank
     * @param function what runs when the LM calls the tool: it gets the LM's arguments as a JSON
     *        object, and what it returns (anything Jackson can write) is the observation; not null
     * @return the tool
     * @throws IllegalArgumentException if the name is not of that form or the description is blank
     */
    public static JavaTool of(String name, String description, JavaFunction function) {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("tool name '" + name + "' must be 1-64 letters, digits, '_' or '-'");
        }
        if (description == null || description.isBlank()) {
            throw new IllegalArgumentException("tool '" + name + "' needs a description: it is how the LM chooses it");
        }
        return new JavaTool(name, description, Objects.requireNonNull(function, "function"), Map.of(), List.of());
    }

    /**
     * An argument the LM must give.
     *
     * @param arg the argument's name, a Python identifier, not already used by this tool
     * @param type its JSON Schema type
     * @param argDescription what it means, for the LM; null for none
     * @return a new tool with the argument; this one is unchanged
     * @throws IllegalArgumentException if {@code arg} is not an identifier or is already an argument
     */
    public JavaTool withArg(String arg, ArgType type, String argDescription) {
        return withArgSchema(arg, Map.of("type", Objects.requireNonNull(type, "type").wire), argDescription, true);
    }

    /**
     * An argument the LM may leave out; the function then finds no such field in its arguments.
     *
     * @param arg the argument's name, a Python identifier, not already used by this tool
     * @param type its JSON Schema type
     * @param argDescription what it means, for the LM; null for none
     * @return a new tool with the argument; this one is unchanged
     * @throws IllegalArgumentException if {@code arg} is not an identifier or is already an argument
     */
    public JavaTool withOptionalArg(String arg, ArgType type, String argDescription) {
        return withArgSchema(arg, Map.of("type", Objects.requireNonNull(type, "type").wire), argDescription, false);
    }

    /**
     * An argument described by a JSON Schema ({@code {"type": "array", "items": {"type": "string"}}},
     * {@code {"enum": ["asc", "desc"]}}...): the LM sees it, and DSPy checks the value against it.
     *
     * @param arg the argument's name, a Python identifier, not already used by this tool
     * @param jsonSchema the schema, as maps and lists that Jackson writes as JSON; not null
     * @param argDescription what it means, for the LM (put in the schema as {@code description}); null for none
     * @param isRequired whether the LM must give it
     * @return a new tool with the argument; this one is unchanged
     * @throws IllegalArgumentException if {@code arg} is not an identifier or is already an argument
     */
    public JavaTool withArgSchema(String arg, Map<String, ?> jsonSchema, String argDescription, boolean isRequired) {
        Objects.requireNonNull(arg, "arg");
        Objects.requireNonNull(jsonSchema, "jsonSchema");
        if (!ARG.matcher(arg).matches()) {
            throw new IllegalArgumentException("argument '" + arg + "' of tool '" + name + "' must be an identifier");
        }
        if (args.containsKey(arg)) {
            throw new IllegalArgumentException("tool '" + name + "' already has an argument '" + arg + "'");
        }
        Map<String, Object> schema = new LinkedHashMap<>(jsonSchema);
        if (argDescription != null) {
            schema.put("description", argDescription);
        }
        Map<String, Map<String, Object>> more = new LinkedHashMap<>(args);
        more.put(arg, Map.copyOf(schema));
        List<String> req = new ArrayList<>(required);
        if (isRequired) {
            req.add(arg);
        }
        return new JavaTool(name, description, function, Collections.unmodifiableMap(more), List.copyOf(req));
    }

    /**
     * Registers each tool's function on the builder under the tool's name
     * ({@link PythonPoolBuilder#javaFunction}), so that the pool's workers can call it.
     *
     * @param builder the builder of the pool the programs will run on; not null
     * @param tools the tools whose functions to register
     * @return the builder
     * @throws IllegalArgumentException when a name is registered twice
     */
    public static PythonPoolBuilder register(PythonPoolBuilder builder, JavaTool... tools) {
        Objects.requireNonNull(builder, "builder");
        for (JavaTool tool : tools) {
            builder.javaFunction(tool.name, tool.function);
        }
        return builder;
    }

    /**
     * The tool's name, for the LM and as a Java function on the pool.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * What the tool does, as the LM reads it.
     *
     * @return the description
     */
    public String description() {
        return description;
    }

    /**
     * The function that runs when the LM calls the tool.
     *
     * @return the function
     */
    public JavaFunction function() {
        return function;
    }

    /**
     * The reference a program's definition carries: {@code java:name}.
     *
     * @return {@code "java:"} and the tool's name
     */
    public String reference() {
        return "java:" + name;
    }

    /** What Python builds the {@code dspy.Tool} from: description, argument schemas, required arguments. */
    Map<String, Object> spec() {
        return Map.of("description", description, "args", args, "required", required);
    }

    @Override
    public String toString() {
        return "JavaTool[" + name + args.keySet() + "]";
    }
}
