package io.pypool;

import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's own threads besides each worker's: one housekeeping thread that runs timers
 * (deadlines of calls nobody blocks on, startup timeouts, backoffs) and the periodic checks, and
 * never blocks; and a small elastic executor for what does block (waiting for a process to exit,
 * for its last stderr lines). Call deadlines are real time ({@link System#nanoTime()}), never the
 * pool's {@link PoolClock}: a test that stops its clock does not stop calls from timing out.
 */
final class Timers {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);

    private final String poolName;
    private final ScheduledThreadPoolExecutor housekeeper;
    private final ExecutorService blocking;

    Timers(String poolName) {
        this.poolName = poolName;
        this.housekeeper = new ScheduledThreadPoolExecutor(1, r -> Worker.daemon("pypool-" + poolName + "-housekeeper", r));
        housekeeper.setRemoveOnCancelPolicy(true);
        this.blocking = Executors.newCachedThreadPool(r -> Worker.daemon("pypool-" + poolName + "-blocking", r));
    }

    /** Runs {@code task} on the housekeeping thread after {@code delayNanos} of real time; a no-op once closed. */
    ScheduledFuture<?> after(long delayNanos, Runnable task) {
        try {
            return housekeeper.schedule(guarded(task), Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return null; // closing
        }
    }

    void every(long periodMillis, Runnable task) {
        housekeeper.scheduleWithFixedDelay(guarded(task), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** The housekeeping thread, for short non-blocking work. */
    Executor housekeeping() {
        return task -> {
            try {
                housekeeper.execute(guarded(task));
            } catch (RejectedExecutionException e) {
                task.run(); // closing: run it here rather than lose it
            }
        };
    }

    /** For work that waits (process exits, stderr drains): never the housekeeping thread. */
    Executor blocking() {
        return task -> {
            try {
                blocking.execute(task);
            } catch (RejectedExecutionException e) {
                task.run();
            }
        };
    }

    private Runnable guarded(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error("pool '{}': housekeeping task failed", poolName, e);
            }
        };
    }

    void shutdown() {
        housekeeper.shutdownNow();
        blocking.shutdown();
    }
}
