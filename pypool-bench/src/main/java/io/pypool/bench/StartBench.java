package io.pypool.bench;

import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * Cold start: the time {@code build()} takes to return, which by default is when every worker is
 * ready (imports done). Measured for each start mode, each handler set and 1/4/8 workers. On a
 * machine with fewer cores than workers, CPU-bound imports cannot overlap: spawning pays them
 * once per worker, which is what a start mode that imports once would remove.
 */
final class StartBench {
    private final BenchContext context;
    private final List<Handlers> handlers;

    StartBench(BenchContext context, List<Handlers> handlers) {
        this.context = context;
        this.handlers = handlers;
    }

    /**
     * @param readyMs     from {@code build()} called to {@code build()} returned
     * @param vsOneWorker readyMs against the same mode and handlers with one worker
     */
    record Row(String mode, String handlers, int workers, double readyMs, double vsOneWorker) {}

    static Table table(List<Row> rows) {
        Table table = new Table("cold start: build() until every worker is ready (ms)",
                "mode, handlers", "workers", "ready ms", "vs 1 worker");
        for (Row r : rows) {
            table.row(r.mode() + ", " + r.handlers(), r.workers(), Table.num(r.readyMs(), 0), Table.ratio(r.vsOneWorker()));
        }
        return table;
    }

    List<Row> run() throws Exception {
        List<Row> rows = new ArrayList<>();
        for (StartMode mode : StartMode.ALL) {
            for (Handlers h : handlers) {
                // Untimed: the first start of a module reads it from disk and writes its bytecode
                // cache; "cold" here means new processes, as after a deploy, not a cold disk.
                readyMillis(mode, h, 1);
                double one = Double.NaN;
                for (int workers : context.sizes().startWorkers()) {
                    double ms = readyMillis(mode, h, workers);
                    if (workers == 1) {
                        one = ms;
                    }
                    rows.add(new Row(mode.name(), h.name(), workers, ms, ms / one));
                }
            }
        }
        return rows;
    }

    private double readyMillis(StartMode mode, Handlers h, int workers) throws Exception {
        PythonPoolBuilder builder = h.settings().apply(mode.settings().apply(
                context.defaultPool("bench-start", workers)));
        long t0 = System.nanoTime();
        try (PythonPool pool = builder.build()) {
            double ms = (System.nanoTime() - t0) / 1e6;
            h.checkServes(pool);
            return ms;
        }
    }
}
