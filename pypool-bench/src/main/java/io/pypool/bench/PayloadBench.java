package io.pypool.bench;

import io.pypool.PythonPool;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Round trips of one payload through the {@code echo} handler, one caller, one worker: how many
 * payload bytes per second come back. Two kinds: a JSON string, against the floor decoding and
 * re-encoding the same JSON; and a {@code byte[]}, sent however the current build sends it,
 * against the floor echoing the raw bytes (no JSON, no encoding: what a binary path can approach).
 */
final class PayloadBench {
    static final int[] SIZES = {100, 10_000, 1_000_000, 10_000_000};

    private final BenchContext context;

    PayloadBench(BenchContext context) {
        this.context = context;
    }

    /**
     * @param kind           "string" (a JSON string) or "bytes" (a {@code byte[]})
     * @param floorMBps      payload MB (10^6 bytes) per second of round trip through the floor, from the median call
     * @param pypoolMBps     the same through pypool
     * @param percentOfFloor pypool as a share of the floor
     * @param calls          round trips timed for pypool
     */
    record Row(String kind, int sizeBytes, double floorMBps, double pypoolMBps, double percentOfFloor,
               double floorP50Us, double pypoolP50Us, int calls) {}

    static Table table(List<Row> rows) {
        Table table = new Table("payload: echo round trip, one caller, 1 worker (MB/s of payload)",
                "payload", "floor", "pypool", "% of floor", "pypool p50 µs");
        for (Row r : rows) {
            table.row(label(r.sizeBytes()) + " " + r.kind(), Table.num(r.floorMBps(), 1),
                    Table.num(r.pypoolMBps(), 1), Table.percent(r.percentOfFloor()), Table.num(r.pypoolP50Us(), 0));
        }
        return table;
    }

    static String label(int bytes) {
        return bytes >= 1_000_000 ? bytes / 1_000_000 + " MB" : bytes >= 1_000 ? bytes / 1_000 + " KB" : bytes + " B";
    }

    List<Row> run() throws Exception {
        List<Row> rows = new ArrayList<>();
        Random random = new Random(42); // fixed: every run sends the same payloads
        try (Floor floor = context.floor();
             PythonPool pool = context.defaultPool("bench-payload", 1).build()) {
            for (int size : SIZES) {
                String text = text(random, size);
                byte[] stringFrame = Floor.frame(Floor.JSON, ("{\"deadline_ms\":       30000,\"cmd\":\"echo\",\"args\":{\"value\":\""
                        + text + "\"}}").getBytes(StandardCharsets.UTF_8));
                Map<String, Object> stringArgs = Map.of("value", text);
                check(text.equals(pool.call("echo", stringArgs, String.class)), "string", size);
                rows.add(row("string", size, measure(() -> floor.roundTrip(stringFrame)),
                        measure(() -> pool.call("echo", stringArgs, String.class))));

                byte[] bytes = new byte[size];
                random.nextBytes(bytes);
                byte[] rawFrame = Floor.frame(Floor.RAW, bytes);
                Map<String, Object> bytesArgs = Map.of("value", bytes);
                check(Arrays.equals(bytes, pool.call("echo", bytesArgs, byte[].class)), "bytes", size);
                rows.add(row("bytes", size, measure(() -> floor.roundTrip(rawFrame)),
                        measure(() -> pool.call("echo", bytesArgs, byte[].class))));
            }
        }
        return rows;
    }

    private static Row row(String kind, int size, Samples floor, Samples pypool) {
        double floorMBps = size / (double) floor.percentile(50) * 1e3;
        double pypoolMBps = size / (double) pypool.percentile(50) * 1e3;
        return new Row(kind, size, floorMBps, pypoolMBps, 100 * pypoolMBps / floorMBps,
                floor.percentile(50) / 1e3, pypool.percentile(50) / 1e3, pypool.count());
    }

    /**
     * Warms up for a quarter of the window (at least one call: small payloads need the JIT, large
     * ones the page cache), then times each call for the window, and at least the minimum count.
     */
    private Samples measure(LatencyBench.Call call) throws Exception {
        long windowNanos = context.sizes().payloadWindow().toNanos();
        long start = System.nanoTime();
        do {
            call.run();
        } while (System.nanoTime() - start < windowNanos / 4);
        Samples samples = new Samples(64);
        start = System.nanoTime();
        while (samples.count() < context.sizes().payloadMinCalls() || System.nanoTime() - start < windowNanos) {
            long t0 = System.nanoTime();
            call.run();
            samples.add(System.nanoTime() - t0);
        }
        return samples;
    }

    /** Letters and digits: a JSON string that needs no escaping, so its size is the payload's. */
    private static String text(Random random, int size) {
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        char[] chars = new char[size];
        for (int i = 0; i < size; i++) {
            chars[i] = alphabet.charAt(random.nextInt(alphabet.length()));
        }
        return new String(chars);
    }

    private static void check(boolean sameBack, String kind, int size) {
        if (!sameBack) {
            throw new IllegalStateException("the " + label(size) + " " + kind + " payload did not come back unchanged");
        }
    }
}
