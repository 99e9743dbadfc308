package io.pypool;

/** No handler is registered under the command's name in the worker's handler modules. */
public final class UnknownCommandException extends PythonException {
    UnknownCommandException(String poolName, String command, String workerId, String pythonMessage) {
        super(poolName, command, workerId, "UnknownCommand", pythonMessage, "",
                pythonMessage + " (worker " + workerId + "); check the handler modules given to the pool's builder");
    }
}
