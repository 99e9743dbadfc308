package io.pypool.bench;

import io.pypool.PypoolException;
import io.pypool.PythonPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Many callers at once, no-op calls: calls per second for 1, 16 and 64 caller threads on a pool of
 * 1 and of 4 workers, each against the floor with as many frames outstanding (spread over as many
 * floor processes as the pool has workers). Each round of a cell ramps up, then counts replies in a window.
 */
final class ThroughputBench {
    static final int[] WORKERS = {1, 4};
    static final int[] CALLERS = {1, 16, 64};

    private final BenchContext context;

    ThroughputBench(BenchContext context) {
        this.context = context;
    }

    /**
     * @param floorPerSecond  replies per second from the floor with {@code callers} frames outstanding
     * @param pypoolPerSecond calls per second through pypool with {@code callers} threads calling
     * @param percentOfFloor  pypool as a share of the floor, from the medians over rounds
     * @param roundPercentMin the lowest share in a single round
     * @param roundPercentMax the highest share in a single round
     * @param errors          calls that failed (saturation, timeouts): should be 0 with default settings
     */
    record Row(int workers, int callers, double floorPerSecond, double pypoolPerSecond, double percentOfFloor,
               double roundPercentMin, double roundPercentMax, long errors) {}

    static Table table(List<Row> rows) {
        Table table = new Table("throughput: no-op calls, default settings (calls/s)",
                "workers x callers", "floor", "pypool", "% of floor", "per round", "errors");
        for (Row r : rows) {
            table.row(r.workers() + " x " + r.callers(), Table.num(r.floorPerSecond(), 0),
                    Table.num(r.pypoolPerSecond(), 0), Table.percent(r.percentOfFloor()),
                    Table.num(r.roundPercentMin(), 0) + " .. " + Table.percent(r.roundPercentMax()), r.errors());
        }
        return table;
    }

    List<Row> run() throws Exception {
        List<Row> rows = new ArrayList<>();
        for (int workers : WORKERS) {
            List<Floor> floors = new ArrayList<>();
            try (PythonPool pool = context.defaultPool("bench-throughput", workers).build()) {
                for (int i = 0; i < workers; i++) {
                    floors.add(context.floor());
                }
                for (int callers : CALLERS) {
                    rows.add(cell(pool, floors, workers, callers));
                }
            } finally {
                for (Floor f : floors) {
                    f.close();
                }
            }
        }
        return rows;
    }

    /**
     * One cell in interleaved rounds (floor then pypool, then pypool then floor, ...), each with its
     * own ramp-up, so that drift in the machine's load hits both sides alike; the medians are kept.
     */
    private Row cell(PythonPool pool, List<Floor> floors, int workers, int callers) throws Exception {
        int rounds = context.sizes().throughputRounds();
        double[] floor = new double[rounds];
        double[] pypool = new double[rounds];
        LongAdder errors = new LongAdder();
        double min = Double.NaN;
        double max = Double.NaN;
        for (int r = 0; r < rounds; r++) {
            if (r % 2 == 0) {
                floor[r] = floor(floors, callers);
                pypool[r] = pypool(pool, callers, errors);
            } else {
                pypool[r] = pypool(pool, callers, errors);
                floor[r] = floor(floors, callers);
            }
            double percent = share(pypool[r], floor[r]);
            min = Double.isNaN(min) || percent < min ? percent : min;
            max = Double.isNaN(max) || percent > max ? percent : max;
        }
        double f = median(floor);
        double p = median(pypool);
        return new Row(workers, callers, f, p, share(p, f), min, max, errors.sum());
    }

    /** pypool as a percentage of the floor; none (NaN, printed "-") when the floor stalled for a whole window. */
    static double share(double pypool, double floor) {
        return floor > 0 ? 100 * pypool / floor : Double.NaN;
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** The floor for {@code callers}: that many frames outstanding, spread evenly over the processes. */
    double floor(List<Floor> floors, int callers) throws Exception {
        byte[] frame = Floor.noopFrame();
        List<Floor.Pump> pumps = new ArrayList<>();
        for (int i = 0; i < floors.size(); i++) {
            int outstanding = callers / floors.size() + (i < callers % floors.size() ? 1 : 0);
            if (outstanding > 0) {
                pumps.add(floors.get(i).pump(frame, outstanding));
            }
        }
        try {
            return window(() -> pumps.stream().mapToLong(p -> p.replies.sum()).sum());
        } finally {
            for (Floor.Pump pump : pumps) {
                pump.stop();
            }
        }
    }

    double pypool(PythonPool pool, int callers, LongAdder errors) throws Exception {
        LongAdder done = new LongAdder();
        List<Thread> threads = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        for (int t = 0; t < callers; t++) {
            Thread thread = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        pool.call("echo", null, Void.class);
                        done.increment();
                    } catch (PypoolException e) {
                        errors.increment();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "bench-caller-" + t);
            threads.add(thread);
            thread.start();
        }
        try {
            return window(done::sum);
        } finally {
            stop.set(true);
            for (Thread thread : threads) {
                thread.join();
            }
        }
    }

    interface Counter {
        long get();
    }

    /** Lets the load run through the warm-up, then counts what completes in the window. */
    private double window(Counter counter) throws InterruptedException {
        Duration warmup = context.sizes().throughputWarmup();
        Duration window = context.sizes().throughputWindow();
        Thread.sleep(warmup.toMillis());
        long before = counter.get();
        long t0 = System.nanoTime();
        Thread.sleep(window.toMillis());
        long after = counter.get();
        return (after - before) / ((System.nanoTime() - t0) / 1e9);
    }
}
