package io.pypool;

import java.util.List;
import java.util.OptionalInt;

/** The Python process running the call exited (crash, kill, signal) before it replied. */
public final class WorkerCrashedException extends PypoolException {
    private final String workerId;
    private final Integer exitCode;
    private final List<String> lastStderrLines;

    WorkerCrashedException(String poolName, String workerId, String message, Integer exitCode,
                           List<String> lastStderrLines) {
        super(poolName, message, null);
        this.workerId = workerId;
        this.exitCode = exitCode;
        this.lastStderrLines = List.copyOf(lastStderrLines);
    }

    public String workerId() { return workerId; }

    /** The process's exit status as Java reports it (128 + n for a process killed by signal n). */
    public OptionalInt exitCode() {
        return exitCode == null ? OptionalInt.empty() : OptionalInt.of(exitCode);
    }

    /** The last lines the worker wrote to stderr before it died. */
    public List<String> lastStderrLines() { return lastStderrLines; }
}
