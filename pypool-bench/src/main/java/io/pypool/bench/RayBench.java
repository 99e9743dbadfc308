package io.pypool.bench;

import io.pypool.PythonPool;
import io.pypool.ray.LocalRayCluster;
import io.pypool.ray.RayBackend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What a call costs when its worker is a Ray actor, against the same call on a local pool, in one
 * run: a local Ray head is started for it (on this machine, so the figure is Ray's own overhead,
 * not a network's). Rounds alternate local and Ray; the median round is kept. Also 8 callers on 2
 * workers, and a stream's items, on both.
 */
final class RayBench {
    private final BenchContext context;
    private final String rayPython;

    RayBench(BenchContext context, String rayPython) {
        this.context = context;
        this.rayPython = rayPython;
    }

    /**
     * @param what      the row
     * @param localUs   µs per call (or item) on local workers
     * @param rayUs     µs per call (or item) on Ray actors
     */
    record Row(String what, double localUs, double rayUs) {}

    List<Row> run() throws Exception {
        BenchOptions.Sizes sizes = context.sizes();
        int calls = Math.max(200, sizes.latencyBlock() / 3); // 1,000 in a full run
        int items = sizes.latencyBlock() * 10;
        int rounds = Math.max(3, sizes.latencyRounds() / 2);
        List<Double> localCall = new ArrayList<>();
        List<Double> rayCall = new ArrayList<>();
        List<Double> localParallel = new ArrayList<>();
        List<Double> rayParallel = new ArrayList<>();
        List<Double> localItem = new ArrayList<>();
        List<Double> rayItem = new ArrayList<>();
        try (LocalRayCluster cluster = LocalRayCluster.start(rayPython, 2)) {
            RayBackend ray = RayBackend.builder().address(cluster.address()).python(rayPython).numCpus(0).build();
            try (PythonPool local = settings(context.defaultPool("bench-local", 2)).build();
                 PythonPool remote = settings(PythonPool.builder().name("bench-ray").workers(2).backend(ray)).build()) {
                for (PythonPool p : List.of(local, remote)) { // warm-up: JIT, Python's caches, Ray's connections
                    sequential(p, calls);
                    parallel(p, calls);
                    ConversationBench.stream(p, items / 3, 0);
                }
                for (int r = 0; r < rounds; r++) {
                    localCall.add(ConversationBench.timed(() -> sequential(local, calls)) / calls);
                    rayCall.add(ConversationBench.timed(() -> sequential(remote, calls)) / calls);
                    localParallel.add(ConversationBench.timed(() -> parallel(local, calls * 4)) / (calls * 4));
                    rayParallel.add(ConversationBench.timed(() -> parallel(remote, calls * 4)) / (calls * 4));
                    localItem.add(ConversationBench.timed(() -> ConversationBench.stream(local, items, 0)) / items);
                    rayItem.add(ConversationBench.timed(() -> ConversationBench.stream(remote, items, 0)) / items);
                }
            }
        }
        return List.of(
                new Row("one caller: one call (echo), µs", median(localCall), median(rayCall)),
                new Row("8 callers, 2 workers: µs per call (inverse throughput)", median(localParallel), median(rayParallel)),
                new Row("stream item (small int), µs", median(localItem), median(rayItem)));
    }

    /** The same pool on either side; the local one runs on the bench's interpreter, the Ray one on the actors'. */
    private io.pypool.PythonPoolBuilder settings(io.pypool.PythonPoolBuilder builder) {
        return builder.handlerModules("pypool.examples", "conversation_handlers")
                .pythonPath(context.scripts()).callTimeout(Duration.ofMinutes(5)).startupTimeout(Duration.ofMinutes(2));
    }

    private static void sequential(PythonPool pool, int n) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            pool.call("echo", null, Void.class);
        }
    }

    private static void parallel(PythonPool pool, int n) throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                done.add(callers.submit(() -> {
                    sequential(pool, n / 8);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            callers.shutdown();
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    static Table table(List<Row> rows) {
        Table t = new Table("Ray actors against local workers: a local Ray head, 2 workers each (median round)", "",
                "local", "Ray", "Ray - local", "Ray / local");
        for (Row r : rows) {
            t.row(r.what(), Table.num(r.localUs(), 1), Table.num(r.rayUs(), 1), Table.num(r.rayUs() - r.localUs(), 1),
                    Table.num(r.rayUs() / r.localUs(), 1) + "x");
        }
        return t;
    }
}
