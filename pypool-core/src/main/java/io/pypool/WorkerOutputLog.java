package io.pypool;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Where one worker's stderr lines go: into the pool's {@code io.pypool.python.<pool>} logger, at
 * their own level when they are Python {@code logging} records and at the pool's output level
 * otherwise, and into a short tail kept for the messages of a crash. Shared by every transport, so
 * a worker's output reads the same wherever it runs.
 */
final class WorkerOutputLog {
    /** Parent of the per-pool loggers that workers' output goes to. */
    private static final String PYTHON_LOGGER = "io.pypool.python";
    private static final int TAIL_LINES = 20;

    private final String poolName;
    private final String workerId;
    private final Logger log;
    private final ArrayDeque<String> tail = new ArrayDeque<>();
    private final java.util.function.Supplier<String> where;
    private volatile String trouble;
    /** The level of plain output lines (not Python logging records, which carry their own). */
    private volatile org.slf4j.event.Level outputLevel = org.slf4j.event.Level.INFO;

    /** @param where where the worker runs, as its lines' prefix shows it ("pid 123", "actor 9f.. pid 123"); asked per line */
    WorkerOutputLog(String poolName, String workerId, java.util.function.Supplier<String> where) {
        this.poolName = poolName;
        this.workerId = workerId;
        this.where = where;
        this.log = LoggerFactory.getLogger(PYTHON_LOGGER + "." + poolName); // one logger per pool
    }

    void outputLevel(org.slf4j.event.Level level) {
        this.outputLevel = level;
    }

    /** One line the worker wrote on stderr. */
    void line(String line) {
        PythonLogLine record = PythonLogLine.parse(line);
        synchronized (tail) {
            if (tail.size() == TAIL_LINES) {
                tail.removeFirst();
            }
            tail.addLast(record == null ? line : record.name() + ": " + record.message());
        }
        String prefix = "[" + poolName + " " + workerId + " " + where.get() + "]";
        MDC.put("pypool.pool", poolName);
        MDC.put("pypool.worker", workerId);
        try {
            if (record == null) {
                log.atLevel(outputLevel).log("{} {}", prefix, line); // print(), C libraries, tracebacks: plain output
            } else {
                record.logTo(log, prefix); // Python logging: at its own level
            }
        } catch (RuntimeException e) {
            // A failing log backend must not stop the drain: the pipe would fill and block the
            // worker, and the lines that explain a crash would be lost.
            trouble = "logging a stderr line failed: " + e;
        } finally {
            MDC.remove("pypool.pool");
            MDC.remove("pypool.worker");
        }
    }

    /** Something went wrong with reading or logging its output; shown with its tail. */
    void trouble(String what) {
        trouble = what;
    }

    /** Its last lines so far. */
    List<String> tail() {
        synchronized (tail) {
            List<String> lines = new ArrayList<>(tail);
            if (trouble != null) {
                lines.add("(" + trouble + ")");
            }
            return lines;
        }
    }
}
