package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * What a program is, as its worker reports it.
 *
 * @param id           the program's id within its session (or the pool)
 * @param moduleType   "predict", "chain_of_thought", "react", or the factory reference
 * @param moduleClass  the Python class of the built module (Predict, ReAct, the user's own...)
 * @param inputs       the input field names, in order (empty where the module does not declare them)
 * @param outputs      the output field names, in order
 * @param instructions the signature's instructions, as DSPy holds them after any loaded state
 * @param demos        how many few-shot demos its predictors hold (an optimizer's work)
 */
public record ProgramInfo(String id, String moduleType, String moduleClass, List<String> inputs, List<String> outputs,
                          String instructions, int demos) {
    static ProgramInfo from(JsonNode info) {
        JsonNode instructions = info.get("instructions");
        return new ProgramInfo(info.get("id").asText(), info.path("module_type").asText(), info.path("module_class").asText(),
                Dspy.strings(info.get("inputs")), Dspy.strings(info.get("outputs")),
                instructions == null || instructions.isNull() ? null : instructions.asText(), info.path("demos").asInt());
    }
}
