package io.pypool.bench;

import io.pypool.PypoolException;
import io.pypool.PythonPool;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A worker killed with SIGKILL, and how long until the pool serves again: the first call answered
 * by the new process (calls made meanwhile wait for it, or fail with the crash and are made
 * again), and until {@code health()} is HEALTHY again. One worker, so that no survivor can answer
 * in its place; a fresh pool for every crash, so that crash backoff never enters the figure.
 */
final class ReplacementBench {
    /** A replacement this late is a failure to report, not a figure. */
    private static final long GIVE_UP_NANOS = 60_000_000_000L;

    private final BenchContext context;
    private final List<Handlers> handlers;

    ReplacementBench(BenchContext context, List<Handlers> handlers) {
        this.context = context;
        this.handlers = handlers;
    }

    /**
     * @param servedMs    median time from the kill to the first reply from the new worker
     * @param healthyMs   median time from the kill to {@code health()} HEALTHY again
     * @param crashes     crashes measured
     * @param failedCalls calls that failed with the crash and were made again (expected: 0 or 1 each)
     */
    record Row(String mode, String handlers, double servedMs, double healthyMs, int crashes, int failedCalls) {}

    static Table table(List<Row> rows) {
        Table table = new Table("replacement: SIGKILL a worker, until served again (ms)",
                "mode, handlers", "served ms", "healthy ms", "crashes");
        for (Row r : rows) {
            table.row(r.mode() + ", " + r.handlers(), Table.num(r.servedMs(), 0), Table.num(r.healthyMs(), 0), r.crashes());
        }
        return table;
    }

    List<Row> run() throws Exception {
        List<Row> rows = new ArrayList<>();
        for (StartMode mode : StartMode.ALL) {
            for (Handlers h : handlers) {
                Samples served = new Samples(8);
                Samples healthy = new Samples(8);
                int failed = 0;
                for (int i = 0; i < context.sizes().replacementReps(); i++) {
                    failed += crashOnce(mode, h, served, healthy);
                }
                rows.add(new Row(mode.name(), h.name(), served.percentile(50) / 1e6,
                        healthy.percentile(50) / 1e6, served.count(), failed));
            }
        }
        return rows;
    }

    private int crashOnce(StartMode mode, Handlers h, Samples served, Samples healthy) throws Exception {
        try (PythonPool pool = h.settings().apply(mode.settings().apply(
                context.defaultPool("bench-replace", 1))).build()) {
            long victim = h.servingPid(pool);
            ProcessHandle process = ProcessHandle.of(victim)
                    .orElseThrow(() -> new IllegalStateException("worker pid " + victim + " is not running"));
            long t0 = System.nanoTime();
            process.destroyForcibly(); // SIGKILL: no goodbye, as in an OOM kill
            int failed = 0;
            while (true) {
                try {
                    if (h.servingPid(pool) != victim) {
                        break;
                    }
                } catch (PypoolException e) {
                    failed++; // sent to the dying worker before its end was seen: made again, as a caller would
                }
                if (System.nanoTime() - t0 > GIVE_UP_NANOS) {
                    throw new IllegalStateException("no call served by a new worker 60 s after a crash: " + pool.health());
                }
            }
            served.add(System.nanoTime() - t0);
            while (!pool.health().isHealthy()) {
                if (System.nanoTime() - t0 > GIVE_UP_NANOS) {
                    throw new IllegalStateException("not healthy 60 s after a crash: " + pool.health());
                }
                // health() only reads state, so polling it often is cheap; parking leaves the cores to the workers.
                LockSupport.parkNanos(200_000);
            }
            healthy.add(System.nanoTime() - t0);
            return failed;
        }
    }
}
