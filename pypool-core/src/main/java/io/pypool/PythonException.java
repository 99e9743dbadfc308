package io.pypool;

/** A handler raised a Python exception. The worker that ran it keeps serving. */
public class PythonException extends PypoolException {
    /** The command whose handler raised. */
    private final String command;
    /** The Python exception's type. */
    private final String pythonType;
    /** {@code str(exception)} on the Python side. */
    private final String pythonMessage;
    /** The formatted Python traceback, or empty. */
    private final String pythonTraceback;
    /** The worker that ran the handler. */
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

    /**
     * The command whose handler raised.
     *
     * @return the command's name, as the caller gave it
     */
    public String command() { return command; }

    /**
     * The Python exception's type, qualified by module unless it is a builtin (e.g. {@code ValueError}).
     *
     * @return the type's name, such as {@code ValueError} or {@code my_pkg.errors.OutOfStock}
     */
    public String pythonType() { return pythonType; }

    /**
     * {@code str(exception)} on the Python side.
     *
     * @return the exception's message; empty if it had none
     */
    public String pythonMessage() { return pythonMessage; }

    /**
     * The formatted Python traceback; empty where the error was not raised by handler code.
     *
     * @return the traceback as Python prints it, or an empty string
     */
    public String pythonTraceback() { return pythonTraceback; }

    /**
     * The worker that ran the handler; it keeps serving.
     *
     * @return the worker's id within the pool, such as {@code w2}
     */
    public String workerId() { return workerId; }
}
