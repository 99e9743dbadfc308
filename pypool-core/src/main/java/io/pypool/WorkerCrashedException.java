package io.pypool;

import java.util.List;
import java.util.OptionalInt;

/** The Python process running the call exited (crash, kill, signal) before it replied. */
public final class WorkerCrashedException extends PypoolException {
    /** The worker that died. */
    private final String workerId;
    /** The process's exit status, or null if it is not known. */
    private final Integer exitCode;
    /** The last lines the worker wrote to stderr. */
    private final List<String> lastStderrLines;

    WorkerCrashedException(String poolName, String workerId, String message, Integer exitCode,
                           List<String> lastStderrLines) {
        super(poolName, message, null);
        this.workerId = workerId;
        this.exitCode = exitCode;
        this.lastStderrLines = List.copyOf(lastStderrLines);
    }

    /**
     * The worker that died; the pool replaces it.
     *
     * @return the worker's id within the pool, such as {@code w2}; {@code ?} when the call had no
     *         worker yet (a session's restore step that could not run)
     */
    public String workerId() { return workerId; }

    /**
     * The process's exit status as Java reports it (128 + n for a process killed by signal n).
     *
     * @return the exit status, or empty where none was seen (the call failed before the process
     *         exited, or the worker ended before the call was sent)
     */
    public OptionalInt exitCode() {
        return exitCode == null ? OptionalInt.empty() : OptionalInt.of(exitCode);
    }

    /**
     * The last lines the worker wrote to stderr before it died.
     *
     * @return the lines, oldest first; empty if it wrote none. Not modifiable.
     */
    public List<String> lastStderrLines() { return lastStderrLines; }
}
