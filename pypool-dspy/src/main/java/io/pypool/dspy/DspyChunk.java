package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One piece of a streamed execution ({@link DspyProgram#stream}): a token of an output field as the
 * LM writes it, a status message, or, last, the prediction (the same {@link DspyResult} as
 * {@code execute} gives).
 */
public final class DspyChunk {
    /** What a chunk carries. */
    public enum Type {
        /** Text of one output field of one predictor, as the LM streams it; only LMs that stream send these. */
        TOKEN,
        /** A status message of DSPy's (before and after each tool call). */
        STATUS,
        /** The final result; always the last chunk of a stream that ends well. */
        PREDICTION,
        /** Anything else a custom LM put in DSPy's stream, as JSON ({@link #value()}). */
        CUSTOM
    }

    private final Type type;
    private final String predictor;
    private final String field;
    private final String text;
    private final boolean last;
    private final DspyResult result;
    private final JsonNode value;

    private DspyChunk(Type type, String predictor, String field, String text, boolean last, DspyResult result,
                      JsonNode value) {
        this.type = type;
        this.predictor = predictor;
        this.field = field;
        this.text = text;
        this.last = last;
        this.result = result;
        this.value = value;
    }

    static DspyChunk from(JsonNode chunk) {
        String type = chunk.path("type").asText();
        return switch (type) {
            case "token" -> new DspyChunk(Type.TOKEN, text(chunk, "predictor"), text(chunk, "field"), text(chunk, "text"),
                    chunk.path("last").asBoolean(), null, null);
            case "status" -> new DspyChunk(Type.STATUS, null, null, text(chunk, "text"), false, null, null);
            case "prediction" -> new DspyChunk(Type.PREDICTION, null, null, null, false, DspyResult.from(chunk), null);
            case "custom" -> new DspyChunk(Type.CUSTOM, null, null, null, false, null, chunk.get("value"));
            default -> throw new DspyException("the worker sent a stream chunk of unknown type '" + type + "': " + chunk, null);
        };
    }

    private static String text(JsonNode chunk, String key) {
        JsonNode v = chunk.get(key);
        return v == null || v.isNull() ? null : v.asText();
    }

    /**
     * What this chunk carries.
     *
     * @return the chunk's type; it says which of the other accessors have a value
     */
    public Type type() {
        return type;
    }

    /**
     * A token's predictor, by DSPy's name for it in the program ({@code named_predictors()}); null for other chunks.
     *
     * @return the predictor's name, or null
     */
    public String predictor() {
        return predictor;
    }

    /**
     * A token's output field; null for other chunks.
     *
     * @return the field's name, or null
     */
    public String field() {
        return field;
    }

    /**
     * A token's text, or a status message; null for other chunks. A field's tokens joined make its
     * text as the LM wrote it, whitespace around it included; the prediction has it parsed.
     *
     * @return the text, or null
     */
    public String text() {
        return text;
    }

    /**
     * Whether this token ends its field (its text may then be empty).
     *
     * @return true for the last token of its field; false for other tokens and chunks
     */
    public boolean isLast() {
        return last;
    }

    /**
     * The prediction's result.
     *
     * @return the same result as {@link DspyProgram#execute} gives
     * @throws IllegalStateException for a chunk of any other type
     */
    public DspyResult result() {
        if (result == null) {
            throw new IllegalStateException("a " + type + " chunk has no result; only the PREDICTION chunk has");
        }
        return result;
    }

    /**
     * A CUSTOM chunk's value; null for other chunks.
     *
     * @return the value as JSON, or null
     */
    public JsonNode value() {
        return value;
    }

    @Override
    public String toString() {
        return switch (type) {
            case TOKEN -> "DspyChunk[TOKEN " + predictor + "." + field + " '" + text + "'" + (last ? ", last" : "") + "]";
            case STATUS -> "DspyChunk[STATUS '" + text + "']";
            case PREDICTION -> "DspyChunk[PREDICTION " + result + "]";
            case CUSTOM -> "DspyChunk[CUSTOM " + value + "]";
        };
    }
}
