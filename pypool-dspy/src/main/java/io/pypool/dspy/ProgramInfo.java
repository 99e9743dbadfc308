package io.pypool.dspy;

import java.util.List;

/**
 * What a session's program is, as its worker reports it.
 *
 * @param id           the program's id within its session
 * @param moduleType   "predict" or "chain_of_thought"
 * @param inputs       the input field names, in order
 * @param outputs      the output field names, in order
 * @param instructions the signature's instructions, as DSPy holds them
 */
public record ProgramInfo(String id, String moduleType, List<String> inputs, List<String> outputs, String instructions) {}
