package io.pypool.testkit;

import io.pypool.PythonPoolBuilder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Workers that misbehave on purpose, chosen from Java: for testing how your code copes with slow
 * starts, crashes, hangs and garbage. Immutable; apply it to a builder:
 *
 * <pre>{@code
 * WorkerFaults.onWorkers("w1").crashOnCall(3).applyTo(builder);
 * WorkerFaults.everyWorker().startSlowly(Duration.ofSeconds(2)).applyTo(builder);
 * }</pre>
 *
 * It loads the runtime's {@code pypool.faults} module into the workers and sets its environment
 * variables; no Python needs writing. Worker ids are the pool's ("w1", "w2"...); a replacement gets
 * a new id, so faults named for ids hit first starts only, while {@link #everyWorker()} hits every
 * start, replacements included.
 */
public final class WorkerFaults {
    private final List<String> workers;
    private final Map<String, String> env;

    private WorkerFaults(List<String> workers, Map<String, String> env) {
        this.workers = workers;
        this.env = env;
    }

    /**
     * Faults for every worker the pool starts, replacements included.
     *
     * @return no faults yet, for every worker; add them with the other methods
     */
    public static WorkerFaults everyWorker() {
        return new WorkerFaults(List.of(), Map.of());
    }

    /**
     * Faults for these workers only (ids such as "w1").
     *
     * @param workerIds at least one worker id; a replacement gets a new id, so only first starts are hit
     * @return no faults yet, for these workers; add them with the other methods
     * @throws IllegalArgumentException if no id is given
     */
    public static WorkerFaults onWorkers(String... workerIds) {
        if (workerIds.length == 0) {
            throw new IllegalArgumentException("name at least one worker id, or use everyWorker()");
        }
        for (String id : workerIds) {
            Objects.requireNonNull(id, "worker id");
        }
        return new WorkerFaults(List.of(workerIds), Map.of());
    }

    /**
     * The worker takes this long to become ready, as if its imports were slow.
     *
     * @param delay zero or more; past the pool's {@code startupTimeout} the start fails
     * @return new faults with this one; a fault set again replaces its earlier setting
     * @throws IllegalArgumentException if {@code delay} is negative
     */
    public WorkerFaults startSlowly(Duration delay) {
        return with("PYPOOL_FAULT_START_DELAY_S", seconds(delay));
    }

    /**
     * The worker fails to start with an ImportError carrying this message.
     *
     * @param message the ImportError's message, which the pool's startup error then shows; not null
     * @return new faults with this one; a fault set again replaces its earlier setting
     */
    public WorkerFaults failToStart(String message) {
        return with("PYPOOL_FAULT_START_FAIL", Objects.requireNonNull(message, "message"));
    }

    /**
     * The worker's process is killed (SIGKILL) at the start of its {@code n}th call (pings not counted).
     *
     * @param n which call, counting from 1
     * @return new faults with this one; a fault set again replaces its earlier setting
     * @throws IllegalArgumentException if {@code n} is below 1
     */
    public WorkerFaults crashOnCall(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("crashOnCall counts from 1, got " + n);
        }
        return with("PYPOOL_FAULT_CRASH_ON_CALL", Integer.toString(n));
    }

    /**
     * Calls of these commands never return: they run into their deadline, and the pool replaces the worker.
     *
     * @param commands command names, as callers give them
     * @return new faults with this one; a fault set again replaces its earlier setting
     */
    public WorkerFaults hangOn(String... commands) {
        return with("PYPOOL_FAULT_HANG_ON", String.join(",", commands));
    }

    /**
     * Every call waits this long before its handler runs.
     *
     * @param delay the wait, in whole milliseconds
     * @return new faults with this one; a fault set again replaces its earlier setting
     */
    public WorkerFaults replyAfter(Duration delay) {
        return with("PYPOOL_FAULT_REPLY_DELAY_MS", Long.toString(delay.toMillis()));
    }

    /**
     * Calls of these commands write text onto the protocol channel instead of replying.
     *
     * @param commands command names, as callers give them
     * @return new faults with this one; a fault set again replaces its earlier setting
     */
    public WorkerFaults writeGarbageOn(String... commands) {
        return with("PYPOOL_FAULT_GARBAGE_ON", String.join(",", commands));
    }

    /**
     * Every call prints this line to stdout first (pypool routes it to the log).
     *
     * @param line the text to print; not null
     * @return new faults with this one; a fault set again replaces its earlier setting
     */
    public WorkerFaults printToStdout(String line) {
        return with("PYPOOL_FAULT_PRINT", Objects.requireNonNull(line, "line"));
    }

    /**
     * Adds the fault module and its settings to the pool's builder; returns the builder.
     *
     * @param builder the builder of the pool under test
     * @return the same builder, to go on configuring or to build
     */
    public PythonPoolBuilder applyTo(PythonPoolBuilder builder) {
        builder.handlerModules("pypool.faults");
        env.forEach(builder::environment);
        if (!workers.isEmpty()) {
            builder.environment("PYPOOL_FAULT_WORKERS", String.join(",", workers));
        }
        return builder;
    }

    /**
     * The environment variables this sets, for logs and assertions.
     *
     * @return variable names and values, not modifiable; the worker ids are added by {@link #applyTo}
     */
    public Map<String, String> environment() {
        return env;
    }

    private WorkerFaults with(String key, String value) {
        Map<String, String> next = new LinkedHashMap<>(env);
        next.put(key, value);
        return new WorkerFaults(workers, Map.copyOf(next));
    }

    private static String seconds(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("a delay must not be negative, got " + d);
        }
        return Double.toString(d.toNanos() / 1e9);
    }

    @Override
    public String toString() {
        return "WorkerFaults" + (workers.isEmpty() ? "[every worker]" : workers) + env;
    }
}
