package io.pypool.bench;

import io.pypool.PythonPool;
import io.pypool.StreamOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What a stream item and a callback into Java cost, each against a plain call on the same pool
 * and a round trip to the floor: the items of one long stream, consumed as fast as they come
 * (small ints, then 1 KB strings); and one call whose handler calls a no-op Java function many
 * times in a row. Rounds alternate the kinds, and the median round is kept.
 */
final class ConversationBench {
    private final BenchContext context;

    ConversationBench(BenchContext context) {
        this.context = context;
    }

    /**
     * @param what        the row
     * @param usPerEach   µs per item, callback or call (the median round)
     * @param perSecond   items, callbacks or calls per second
     * @param count       items, callbacks or calls per round
     */
    record Row(String what, double usPerEach, double perSecond, int count) {}

    List<Row> run() throws Exception {
        BenchOptions.Sizes sizes = context.sizes();
        int items = sizes.latencyBlock() * 30;      // 90,000 in a full run
        int callbacks = sizes.latencyBlock();       // 3,000
        int calls = sizes.latencyBlock();
        int rounds = Math.max(3, sizes.latencyRounds() / 2);
        byte[] frame = Floor.noopFrame();
        List<Double> floorUs = new ArrayList<>();
        List<Double> callUs = new ArrayList<>();
        List<Double> itemUs = new ArrayList<>();
        List<Double> kbItemUs = new ArrayList<>();
        List<Double> callbackUs = new ArrayList<>();
        try (Floor floor = context.floor();
             PythonPool pool = context.defaultPool("bench-conversations", 1)
                     .handlerModules("pypool.examples", "conversation_handlers").pythonPath(context.scripts())
                     .callTimeout(Duration.ofMinutes(5))
                     .javaFunction("bench.noop", args -> null).build()) {
            // Warm-up: JIT on both sides, Python's caches.
            stream(pool, items / 3, 0);
            pool.call("bench.callbacks", Map.of("n", callbacks / 3), Integer.class);
            LatencyBench.block(() -> pool.call("echo", null, Void.class), sizes.latencyWarmup());
            LatencyBench.block(() -> floor.roundTrip(frame), sizes.latencyWarmup());
            for (int r = 0; r < rounds; r++) {
                floorUs.add(timed(() -> {
                    for (int i = 0; i < calls; i++) {
                        floor.roundTrip(frame);
                    }
                }) / calls);
                callUs.add(timed(() -> {
                    for (int i = 0; i < calls; i++) {
                        pool.call("echo", null, Void.class);
                    }
                }) / calls);
                itemUs.add(timed(() -> stream(pool, items, 0)) / items);
                kbItemUs.add(timed(() -> stream(pool, items / 3, 1024)) / (items / 3));
                // One call's own cost is taken off: what is left is the callbacks'.
                double one = callUs.get(callUs.size() - 1);
                callbackUs.add((timed(() -> pool.call("bench.callbacks", Map.of("n", callbacks), Integer.class)) - one)
                        / callbacks);
            }
        }
        return List.of(
                row("floor: one framed round trip", floorUs, calls),
                row("pypool: one call (echo, no arguments)", callUs, calls),
                row("stream item: small int", itemUs, items),
                row("stream item: 1 KB string", kbItemUs, items / 3),
                row("callback into Java: no-op, from a sync handler", callbackUs, callbacks));
    }

    /** Reads a stream of n items of the given size to its end (the Ray bench uses it too). */
    static void stream(PythonPool pool, int n, int size) {
        long[] count = {0};
        try (Stream<Object> s = pool.stream("bench.items", Map.of("n", n, "size", size), Object.class,
                StreamOptions.DEFAULTS.withTimeout(Duration.ofMinutes(5)))) {
            s.forEach(item -> count[0]++);
        }
        if (count[0] != n) {
            throw new IllegalStateException("the stream delivered " + count[0] + " of " + n + " items");
        }
    }

    interface Work {
        void run() throws Exception;
    }

    /** Microseconds the work took. */
    static double timed(Work work) throws Exception {
        long t0 = System.nanoTime();
        work.run();
        return (System.nanoTime() - t0) / 1e3;
    }

    private static Row row(String what, List<Double> us, int count) {
        List<Double> sorted = new ArrayList<>(us);
        sorted.sort(null);
        double median = sorted.get(sorted.size() / 2);
        return new Row(what, median, 1e6 / median, count);
    }

    static Table table(List<Row> rows) {
        Table t = new Table("streams and callbacks: one caller, 1 worker (median round)", "", "µs each", "per second",
                "per round");
        for (Row r : rows) {
            t.row(r.what(), Table.num(r.usPerEach(), 2), Table.num(r.perSecond(), 0), r.count());
        }
        return t;
    }
}
