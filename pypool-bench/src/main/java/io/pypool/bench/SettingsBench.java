package io.pypool.bench;

import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;

/**
 * What tuning buys over the defaults, on one worker: a no-op call's p50 with one caller, and
 * calls/s with 64 callers, for the defaults and for the settings docs/PERFORMANCE.md discusses.
 * The other sections measure defaults only; this one says how far a user who finds the settings
 * gets, so that a default that leaves much behind shows.
 */
final class SettingsBench {
    static final int CALLERS = 64;

    record Settings(String name, UnaryOperator<PythonPoolBuilder> apply) {}

    static final List<Settings> ALL = List.of(
            new Settings("defaults", UnaryOperator.identity()),
            new Settings("maxInFlightPerWorker(1): one call at a time", b -> b.maxInFlightPerWorker(1)),
            new Settings("maxInFlightPerWorker(64): 64 threads", b -> b.maxInFlightPerWorker(64)),
            new Settings("maxInFlightPerWorker(64).handlerThreads(1)", b -> b.maxInFlightPerWorker(64).handlerThreads(1)),
            new Settings("callerSpin(0): park at once", b -> b.callerSpin(Duration.ZERO)),
            new Settings("forkServer(false): spawned worker", b -> b.forkServer(false)));

    private final BenchContext context;

    SettingsBench(BenchContext context) {
        this.context = context;
    }

    /**
     * @param p50Us          one caller's no-op call p50
     * @param p50VsFloor     against the floor's p50 measured in the same section
     * @param callsPerSecond with 64 callers
     * @param percentOfFloor against the floor with 64 frames outstanding, measured in the same section
     */
    record Row(String settings, double p50Us, double p50VsFloor, double callsPerSecond, double percentOfFloor, long errors) {}

    static Table table(List<Row> rows) {
        Table table = new Table("settings: 1 worker, what tuning buys over the defaults",
                "settings", "p50 µs, 1 caller", "vs floor", "calls/s, 64 callers", "% of floor", "errors");
        for (Row r : rows) {
            table.row(r.settings(), Table.num(r.p50Us(), 1), Table.ratio(r.p50VsFloor()),
                    Table.num(r.callsPerSecond(), 0), Table.percent(r.percentOfFloor()), r.errors());
        }
        return table;
    }

    List<Row> run() throws Exception {
        BenchOptions.Sizes sizes = context.sizes();
        int calls = sizes.latencyRounds() * sizes.latencyBlock() / 2;
        ThroughputBench throughput = new ThroughputBench(context);
        byte[] frame = Floor.noopFrame();
        List<Row> rows = new ArrayList<>();
        try (Floor floor = context.floor()) {
            LatencyBench.block(() -> floor.roundTrip(frame), sizes.latencyWarmup());
            double floorP50 = LatencyBench.block(() -> floor.roundTrip(frame), calls).percentile(50) / 1e3;
            double floorRate = rounds(() -> throughput.floor(List.of(floor), CALLERS));
            for (Settings s : ALL) {
                try (PythonPool pool = s.apply().apply(context.defaultPool("bench-settings", 1)).build()) {
                    LatencyBench.Call call = () -> pool.call("echo", null, Void.class);
                    LatencyBench.block(call, sizes.latencyWarmup() / 4);
                    double p50 = LatencyBench.block(call, calls).percentile(50) / 1e3;
                    LongAdder errors = new LongAdder();
                    double rate = rounds(() -> throughput.pypool(pool, CALLERS, errors));
                    rows.add(new Row(s.name(), p50, p50 / floorP50, rate, ThroughputBench.share(rate, floorRate), errors.sum()));
                }
            }
        }
        return rows;
    }

    interface Rate {
        double measure() throws Exception;
    }

    /** The median over the run's throughput rounds. */
    private double rounds(Rate rate) throws Exception {
        double[] values = new double[context.sizes().throughputRounds()];
        for (int i = 0; i < values.length; i++) {
            values[i] = rate.measure();
        }
        return ThroughputBench.median(values);
    }
}
