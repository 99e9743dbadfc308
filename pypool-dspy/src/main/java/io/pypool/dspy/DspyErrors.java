package io.pypool.dspy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.pypool.PythonException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Turns the Python side's errors ({@code pypool.dspy_errors}) into the typed exceptions of this package. */
final class DspyErrors {
    /** Must match {@code DETAILS_MARKER} in python/pypool/dspy_errors.py. */
    static final String DETAILS_MARKER = "\n--pypool-dspy-details--\n";
    private static final ObjectMapper JSON = new ObjectMapper();

    private DspyErrors() {}

    /** The typed exception for {@code t}; anything that is not a DSPy-layer error passes as it is. */
    static RuntimeException translate(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof PythonException e && e.pythonType().startsWith("pypool.dspy")) {
            String type = e.pythonType().substring(e.pythonType().lastIndexOf('.') + 1);
            String message = e.pythonMessage();
            return switch (type) {
                case "DspyUnavailable" -> new DspyUnavailableException(message, e);
                case "ProgramNotFound" -> new ProgramNotFoundException(message, e);
                case "LmNotConfigured" -> new LmNotConfiguredException(message + " (Dspy.configureLm)", e);
                case "LmConfigError" -> new LmConfigurationException(message, e);
                case "PickleNotAllowed" -> new PickleNotAllowedException(message, e);
                case "ProgramBuildError", "ReferenceNotFound" -> new ProgramBuildException(message, e);
                case "DspyCallFailed" -> callFailed(message, e);
                default -> e;
            };
        }
        if (t instanceof RuntimeException re) {
            return re;
        }
        return new DspyException(String.valueOf(t), t);
    }

    private static DspyCallException callFailed(String wire, PythonException e) {
        int at = wire.indexOf(DETAILS_MARKER);
        String message = at < 0 ? wire : wire.substring(0, at);
        JsonNode details;
        try {
            details = at < 0 ? JsonNodeFactory.instance.objectNode() : JSON.readTree(wire.substring(at + DETAILS_MARKER.length()));
        } catch (Exception unreadable) {
            details = JsonNodeFactory.instance.objectNode();
        }
        for (JsonNode type : details.path("types")) {
            switch (type.asText()) {
                case "AdapterParseError": return new AdapterParseException(message, e, details);
                case "LMRateLimitError": return new LmRateLimitException(message, e, details);
                case "LMAuthError": return new LmAuthException(message, e, details);
                case "LMTimeoutError": return new LmTimeoutException(message, e, details);
                case "ContextWindowExceededError": return new ContextWindowExceededException(message, e, details);
                case "LMError": return new LmCallException(message, e, details);
                default: break;
            }
        }
        return new DspyCallException(message, e, details);
    }
}
