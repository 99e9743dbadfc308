package io.pypool.bench;

import io.pypool.PythonPool;

/**
 * One caller, no-op calls: how long a call takes against one framed round trip to the floor.
 * Both run in the same process, in interleaved blocks (floor, pypool, pypool, floor, ...), so
 * whatever the machine does meanwhile (other builds, frequency changes) hits both alike; every
 * call is timed on its own, and percentiles come from all of them.
 */
final class LatencyBench {
    private final BenchContext context;

    LatencyBench(BenchContext context) {
        this.context = context;
    }

    /**
     * @param floor          the floor's per-call times over all blocks
     * @param pypool         pypool's per-call times over all blocks
     * @param p50Ratio       pypool p50 / floor p50: the headline figure
     * @param p99Ratio       pypool p99 / floor p99
     * @param blockRatioMin  the lowest p50 ratio of one round (floor block against pypool block)
     * @param blockRatioMax  the highest: a wide range means the machine, or a wake-up, was not steady
     */
    record Result(Samples.Summary floor, Samples.Summary pypool, double p50Ratio, double p99Ratio,
                  double blockRatioMin, double blockRatioMax, int rounds, int callsPerBlock) {

        Table table() {
            return new Table("latency: no-op call, one caller, 1 worker (µs)", "", "p50", "p99", "mean", "calls")
                    .row("floor", Table.num(floor.p50Us(), 1), Table.num(floor.p99Us(), 1), Table.num(floor.meanUs(), 1), floor.calls())
                    .row("pypool", Table.num(pypool.p50Us(), 1), Table.num(pypool.p99Us(), 1), Table.num(pypool.meanUs(), 1), pypool.calls())
                    .row("pypool / floor", Table.ratio(p50Ratio), Table.ratio(p99Ratio), "", "")
                    .row("p50 ratio per round", Table.ratio(blockRatioMin) + " .. " + Table.ratio(blockRatioMax), "", "", "");
        }
    }

    interface Call {
        void run() throws Exception;
    }

    Result run() throws Exception {
        BenchOptions.Sizes sizes = context.sizes();
        byte[] frame = Floor.noopFrame();
        try (Floor floor = context.floor();
             PythonPool pool = context.defaultPool("bench-latency", 1).build()) {
            Call floorCall = () -> floor.roundTrip(frame);
            Call poolCall = () -> pool.call("echo", null, Void.class);
            block(floorCall, sizes.latencyWarmup()); // JIT, page cache, Python's own caches
            block(poolCall, sizes.latencyWarmup());
            Samples floorAll = new Samples(sizes.latencyRounds() * sizes.latencyBlock());
            Samples poolAll = new Samples(sizes.latencyRounds() * sizes.latencyBlock());
            double min = Double.MAX_VALUE;
            double max = 0;
            for (int r = 0; r < sizes.latencyRounds(); r++) {
                // Alternate which goes first, so that neither always runs right after the other's wake-ups.
                boolean floorFirst = r % 2 == 0;
                Samples a = block(floorFirst ? floorCall : poolCall, sizes.latencyBlock());
                Samples b = block(floorFirst ? poolCall : floorCall, sizes.latencyBlock());
                Samples f = floorFirst ? a : b;
                Samples p = floorFirst ? b : a;
                double ratio = (double) p.percentile(50) / f.percentile(50);
                min = Math.min(min, ratio);
                max = Math.max(max, ratio);
                floorAll.addAll(f);
                poolAll.addAll(p);
            }
            Samples.Summary fs = floorAll.summary();
            Samples.Summary ps = poolAll.summary();
            return new Result(fs, ps, ps.p50Us() / fs.p50Us(), ps.p99Us() / fs.p99Us(), min, max,
                    sizes.latencyRounds(), sizes.latencyBlock());
        }
    }

    static Samples block(Call call, int calls) throws Exception {
        Samples samples = new Samples(calls);
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            call.run();
            samples.add(System.nanoTime() - t0);
        }
        return samples;
    }
}
