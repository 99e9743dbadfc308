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
     * @param memory      the workers' memory once ready (PSS: shared pages counted once)
     */
    record Row(String mode, String handlers, int workers, double readyMs, double vsOneWorker, WorkerMemory memory) {}

    static Table table(List<Row> rows) {
        Table table = new Table("cold start: build() until every worker is ready (ms)",
                "mode, handlers", "workers", "ready ms", "vs 1 worker", "workers' PSS MB", "+ template MB");
        for (Row r : rows) {
            table.row(r.mode() + ", " + r.handlers(), r.workers(), Table.num(r.readyMs(), 0), Table.ratio(r.vsOneWorker()),
                    Table.num(r.memory().workersPss() / 1e6, 1), Table.num(r.memory().templatePss() / 1e6, 1));
        }
        return table;
    }

    List<Row> run() throws Exception {
        List<Row> rows = new ArrayList<>();
        for (StartMode mode : StartMode.ALL) {
            for (Handlers h : handlers) {
                // Untimed: the first start of a module reads it from disk and writes its bytecode
                // cache; "cold" here means new processes, as after a deploy, not a cold disk.
                measure(mode, h, 1, Double.NaN);
                double one = Double.NaN;
                for (int workers : context.sizes().startWorkers()) {
                    Row row = measure(mode, h, workers, one);
                    if (workers == 1) {
                        one = row.readyMs();
                    }
                    rows.add(workers == 1 ? new Row(row.mode(), row.handlers(), 1, one, 1.0, row.memory()) : row);
                }
            }
        }
        return rows;
    }

    private Row measure(StartMode mode, Handlers h, int workers, double oneWorkerMs) throws Exception {
        PythonPoolBuilder builder = h.settings().apply(mode.settings().apply(
                context.defaultPool("bench-start", workers)));
        long t0 = System.nanoTime();
        try (PythonPool pool = builder.build()) {
            double ms = (System.nanoTime() - t0) / 1e6;
            h.checkServes(pool);
            return new Row(mode.name(), h.name(), workers, ms, ms / oneWorkerMs, WorkerMemory.of(pool));
        }
    }
}
