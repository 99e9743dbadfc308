package io.pypool;

/**
 * The call's arguments do not fit the handler: a missing or unexpected parameter, or a session
 * handler called without a session. Nothing ran in Python.
 */
public final class BadArgumentsException extends PythonException {
    BadArgumentsException(String poolName, String command, String workerId, String pythonMessage) {
        super(poolName, command, workerId, "BadArguments", pythonMessage, "",
                pythonMessage + " (worker " + workerId + ")");
    }
}
