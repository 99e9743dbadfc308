package io.pypool;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A Java function that Python handlers may call by name with {@code pypool.call_java(name, args)}
 * (see {@link PythonPoolBuilder#javaFunction}). It gets the arguments as JSON (binary values as
 * binary nodes) and returns anything Jackson can write ({@code byte[]} and {@link NdArray} travel
 * as raw bytes), or null. What it throws reaches Python as a {@code pypool.JavaError} with the
 * exception's class name and message.
 *
 * <p>It runs on the pool's {@linkplain PythonPoolBuilder#javaFunctionExecutor Java function
 * executor} and may call into the pool again: such nested calls get at most the remaining time of
 * the call whose handler called back. A nested call into that call's own session fails at once
 * with {@link SessionReentryException} (it could only wait on itself). When the call it serves
 * ends (timeout, cancel), the thread running it is interrupted.
 */
@FunctionalInterface
public interface JavaFunction {
    /**
     * Runs the function for one {@code pypool.call_java} from Python.
     *
     * @param args the arguments Python passed, as JSON (an object, an array, or a null node for none)
     * @return what Python gets back: anything Jackson can write, or null
     * @throws Exception any failure; Python gets it as a {@code pypool.JavaError} with the exception's
     *         class name and message
     */
    Object apply(JsonNode args) throws Exception;
}
