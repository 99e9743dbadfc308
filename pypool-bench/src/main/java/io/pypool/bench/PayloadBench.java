package io.pypool.bench;

import io.pypool.PythonPool;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Large payloads through one worker: a 10 MB {@code byte[]} echoed (binary attachments) and a
 * 10 MB String echoed (JSON), in MB/s of payload each way (20 MB moved per call), and the no-op
 * call's median latency on the same pool. Run:
 * {@code java -cp pypool-bench/target/pypool-bench.jar io.pypool.bench.PayloadBench [rounds] [noop]};
 * with {@code noop}, only the no-op latency (to compare builds in alternating runs); with
 * {@code beside}, small calls' latency on one worker alone and while 10 MB echoes run beside them
 * (what a big frame holding the worker's pipes costs other calls).
 */
public final class PayloadBench {
    private static final int SIZE = 10 * 1024 * 1024;

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        if (args.length > 1 && args[1].equals("noop")) {
            noop(rounds);
            return;
        }
        if (args.length > 1 && args[1].equals("beside")) {
            beside();
            return;
        }
        byte[] bytes = new byte[SIZE];
        ThreadLocalRandom.current().nextBytes(bytes);
        char[] chars = new char[SIZE];
        Arrays.fill(chars, 'x');
        String text = new String(chars);
        try (PythonPool pool = PythonPool.builder().name("payload-bench").workers(1).maxFrameBytes(64 << 20)
                .handlerModules("pypool.examples").build()) {
            for (int i = 0; i < 3; i++) { // warm-up
                pool.call("echo", Map.of("value", bytes), byte[].class);
                pool.call("echo", Map.of("value", text), String.class);
            }
            for (int i = 0; i < 20_000; i++) {
                pool.call("echo", null);
            }
            double[] b = new double[rounds];
            double[] s = new double[rounds];
            double[] noop = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                b[r] = megabytesPerSecond(() -> check(pool.call("echo", Map.of("value", bytes), byte[].class).length));
                s[r] = megabytesPerSecond(() -> check(pool.call("echo", Map.of("value", text), String.class).length()));
                long t0 = System.nanoTime();
                for (int i = 0; i < 20_000; i++) {
                    pool.call("echo", null);
                }
                noop[r] = (System.nanoTime() - t0) / 1e3 / 20_000;
            }
            System.out.printf("10 MB byte[] echo: %6.0f MB/s, 10 MB String echo: %6.0f MB/s, no-op call: %5.1f µs (medians of %d)%n",
                    median(b), median(s), median(noop), rounds);
        }
    }

    private static void noop(int rounds) throws Exception {
        try (PythonPool pool = PythonPool.builder().name("payload-bench").workers(1).handlerModules("pypool.examples").build()) {
            for (int i = 0; i < 50_000; i++) {
                pool.call("echo", null);
            }
            double[] noop = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 20_000; i++) {
                    pool.call("echo", null);
                }
                noop[r] = (System.nanoTime() - t0) / 1e3 / 20_000;
            }
            Arrays.sort(noop);
            System.out.printf("no-op call: median %5.1f µs, best %5.1f µs (%d rounds of 20,000)%n", median(noop), noop[0], rounds);
        }
    }

    private static void beside() throws Exception {
        byte[] bytes = new byte[SIZE];
        try (PythonPool pool = PythonPool.builder().name("payload-bench").workers(1).maxInFlightPerWorker(4)
                .handlerThreads(2).maxFrameBytes(64 << 20).handlerModules("pypool.examples").build()) {
            for (int i = 0; i < 20_000; i++) {
                pool.call("echo", null);
            }
            System.out.println("small calls alone:        " + latencies(pool, 2_000));
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicInteger big = new java.util.concurrent.atomic.AtomicInteger();
            Thread t = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        check(pool.call("echo", Map.of("value", bytes), byte[].class).length);
                        big.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.start();
            String during = latencies(pool, 2_000);
            stop.set(true);
            t.join();
            System.out.println("beside 10 MB byte[] echoes: " + during + " (" + big.get() + " big echoes meanwhile)");
        }
    }

    private static String latencies(PythonPool pool, int calls) throws Exception {
        double[] us = new double[calls];
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            pool.call("echo", null);
            us[i] = (System.nanoTime() - t0) / 1e3;
        }
        Arrays.sort(us);
        return String.format("p50 %7.1f µs, p99 %8.1f µs, max %8.1f µs", us[calls / 2], us[calls * 99 / 100], us[calls - 1]);
    }

    interface Call {
        void run() throws Exception;
    }

    private static void check(int length) {
        if (length != SIZE) {
            throw new IllegalStateException("echo returned " + length + " of " + SIZE);
        }
    }

    /** Payload MB/s over five round trips: 2 x 10 MB per trip, there and back. */
    private static double megabytesPerSecond(Call call) throws Exception {
        long t0 = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            call.run();
        }
        return 5 * 2 * (SIZE / 1e6) / ((System.nanoTime() - t0) / 1e9);
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
