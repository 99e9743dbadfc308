package io.pypool.dspy;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Python annotations for typed fields, written for you: {@code FieldTypes.literal("pos", "neg")}. */
public final class FieldTypes {
    private FieldTypes() {}

    /** {@code list[item]}, e.g. {@code list(FieldTypes.STR)}. */
    public static String list(String item) {
        return "list[" + item + "]";
    }

    /** {@code dict[key, value]}. */
    public static String dict(String key, String value) {
        return "dict[" + key + ", " + value + "]";
    }

    /** {@code Optional[type]}: the LM may leave it empty (null). */
    public static String optional(String type) {
        return "Optional[" + type + "]";
    }

    /** {@code Literal['a', 'b']}: the value is one of these. */
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
