package io.pypool;

/** A handler raised a Python exception. The worker that ran it keeps serving. */
public class PythonException extends PypoolException {
    private final String command;
    private final String pythonType;
    private final String pythonMessage;
    private final String pythonTraceback;
    private final String workerId;

    PythonException(String poolName, String command, String workerId, String pythonType,
                    String pythonMessage, String pythonTraceback) {
        this(poolName, command, workerId, pythonType, pythonMessage, pythonTraceback,
                "command '" + command + "' raised " + pythonType + ": " + pythonMessage
                        + " (worker " + workerId + ")"
                        + (pythonTraceback.isEmpty() ? "" : "\nPython traceback:\n" + pythonTraceback.stripTrailing()));
    }

    PythonException(String poolName, String command, String workerId, String pythonType,
                    String pythonMessage, String pythonTraceback, String message) {
        super(poolName, message, null);
        this.command = command;
        this.pythonType = pythonType;
        this.pythonMessage = pythonMessage;
        this.pythonTraceback = pythonTraceback;
        this.workerId = workerId;
    }

    public String command() { return command; }

    /** The Python exception's type, qualified by module unless it is a builtin (e.g. {@code ValueError}). */
    public String pythonType() { return pythonType; }

    /** {@code str(exception)} on the Python side. */
    public String pythonMessage() { return pythonMessage; }

    /** The formatted Python traceback; empty where the error was not raised by handler code. */
    public String pythonTraceback() { return pythonTraceback; }

    public String workerId() { return workerId; }
}
