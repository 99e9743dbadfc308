package io.pypool.dspy;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Python annotations for typed fields, written for you: {@code FieldTypes.literal("pos", "neg")}. */
public final class FieldTypes {
    private FieldTypes() {}

    /**
     * {@code list[item]}, e.g. {@code FieldTypes.list("str")}.
     *
     * @param item the elements' annotation: {@code "str"}, {@code "int"}, or another one made here
     * @return the annotation's text, such as {@code list[str]}
     */
    public static String list(String item) {
        return "list[" + item + "]";
    }

    /**
     * {@code dict[key, value]}.
     *
     * @param key the keys' annotation, usually {@code "str"}
     * @param value the values' annotation
     * @return the annotation's text, such as {@code dict[str, int]}
     */
    public static String dict(String key, String value) {
        return "dict[" + key + ", " + value + "]";
    }

    /**
     * {@code Optional[type]}: the LM may leave it empty (null).
     *
     * @param type the annotation of the value when there is one
     * @return the annotation's text, such as {@code Optional[int]}
     */
    public static String optional(String type) {
        return "Optional[" + type + "]";
    }

    /**
     * {@code Literal['a', 'b']}: the value is one of these.
     *
     * @param values the allowed values, at least one; quotes and backslashes in them are escaped
     * @return the annotation's text, such as {@code Literal['pos', 'neg']}
     * @throws IllegalArgumentException if no value is given
     */
    public static String literal(String... values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("a Literal type needs at least one value");
        }
        return Arrays.stream(values).map(FieldTypes::quote).collect(Collectors.joining(", ", "Literal[", "]"));
    }

    private static String quote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
