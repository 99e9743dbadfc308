package io.pypool;

/** The call succeeded in Python, but its JSON result does not fit the Java type that was asked for. */
public final class ResultMappingException extends PypoolException {
    ResultMappingException(String poolName, String message, Throwable cause) {
        super(poolName, message, cause);
    }
}
