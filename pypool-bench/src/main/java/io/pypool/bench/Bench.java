package io.pypool.bench;

import io.pypool.CallOptions;
import io.pypool.PythonPool;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

/**
 * Whole-process benchmarks, each printed as one line:
 * <ol>
 *   <li>bare pipe round trip: Java writes a 16-byte-header frame to a minimal Python echo loop and reads it back;</li>
 *   <li>pypool no-op call on one worker, one caller at a time (the same frame size plus JSON and dispatch);</li>
 *   <li>one worker's throughput with many callers: in-flight slots above 1, run on handler threads or
 *       pipelined through one thread ({@code handlerThreads(1)});</li>
 *   <li>time to ready for one worker and for four, when the handler module takes 2 s to import.</li>
 * </ol>
 * Timings are medians over several rounds, after warm-up. Run: {@code java -jar pypool-bench/target/pypool-bench.jar}.
 */
public final class Bench {
    private static final int ROUNDS = 7;
    private static final int CALLS_PER_ROUND = 20_000;

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("pypool-bench");
        Path echo = copy("bare_echo.py", dir);
        copy("slow_handlers.py", dir);
        String python = realPython();
        System.out.println("python: " + python + ", cores: " + Runtime.getRuntime().availableProcessors()
                + ", java: " + System.getProperty("java.version"));

        // Alone, each on an otherwise idle machine: the figures a single caller sees.
        double bareAlone;
        try (BareEcho bare = new BareEcho(python, echo)) {
            bareAlone = alternatingMedians(bare::roundTrip)[0];
        }
        double callAlone;
        try (PythonPool pool = PythonPool.builder().name("bench").workers(1).handlerModules("pypool.examples").build()) {
            callAlone = alternatingMedians(() -> pool.call("echo", null))[0];
        }
        System.out.printf("alone: bare pipe round trip %5.1f µs, pypool no-op call %5.1f µs = %.2fx%n",
                bareAlone, callAlone, callAlone / bareAlone);
        // Interleaved rounds, so that drift in the machine's state hits both alike. A busier JVM
        // keeps the CPUs out of deep idle, which makes the bare loop's single wake-up cheaper.
        for (Duration spin : new Duration[] {Duration.ZERO, Duration.ofNanos(50_000)}) {
            try (BareEcho bare = new BareEcho(python, echo);
                 PythonPool pool = PythonPool.builder().name("bench").workers(1).callerSpin(spin)
                         .handlerModules("pypool.examples").build()) {
                double[] m = alternatingMedians(bare::roundTrip, () -> pool.call("echo", null));
                System.out.printf("interleaved, callerSpin %2d µs: bare %5.1f µs, pypool %5.1f µs = %.2fx%n",
                        spin.toNanos() / 1000, m[0], m[1], m[1] / m[0]);
            }
        }

        for (int inFlight : new int[] {1, 8, 32}) {
            try (PythonPool pool = PythonPool.builder().name("bench").workers(1).maxInFlightPerWorker(inFlight)
                    .maxQueuedCalls(100_000).handlerModules("pypool.examples").build()) {
                double rate = throughput(pool, 32, Duration.ofSeconds(3));
                System.out.printf("1 worker, 32 callers, %2d in flight, %2d handler threads: %,9.0f calls/s%n",
                        inFlight, inFlight, rate);
            }
        }
        for (int inFlight : new int[] {8, 32}) {
            try (PythonPool pool = PythonPool.builder().name("bench").workers(1).maxInFlightPerWorker(inFlight)
                    .handlerThreads(1).maxQueuedCalls(100_000).handlerModules("pypool.examples").build()) {
                double rate = throughput(pool, 32, Duration.ofSeconds(3));
                System.out.printf("1 worker, 32 callers, %2d in flight,  1 handler thread : %,9.0f calls/s%n", inFlight, rate);
            }
        }
        try (PythonPool pool = PythonPool.builder().name("bench").workers(2).maxQueuedCalls(100_000)
                .handlerModules("pypool.examples").build()) {
            System.out.printf("2 workers, 32 callers, 1 in flight each           : %,9.0f calls/s%n",
                    throughput(pool, 32, Duration.ofSeconds(3)));
        }

        for (int workers : new int[] {1, 4, 8}) {
            long t0 = System.nanoTime();
            try (PythonPool pool = PythonPool.builder().name("bench").workers(workers).pythonPath(dir)
                    .handlerModules("slow_handlers").environment("BENCH_IMPORT_SECONDS", "2").build()) {
                System.out.printf("ready, %d worker(s), 2 s import: %6.0f ms%n", workers, (System.nanoTime() - t0) / 1e6);
            }
        }
    }

    /** A minimal Python echo loop on pipes, and one framed round trip to it. */
    private static final class BareEcho implements AutoCloseable {
        private final Process process;
        private final OutputStream out;
        private final DataInputStream in;
        private final byte[] frame;
        private final byte[] reply;

        BareEcho(String python, Path script) throws IOException {
            process = new ProcessBuilder(python, script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            out = process.getOutputStream();
            in = new DataInputStream(process.getInputStream());
            byte[] body = "{\"cmd\":\"echo\",\"args\":null}".getBytes(StandardCharsets.UTF_8);
            frame = new byte[16 + body.length];
            int len = frame.length - 4;
            frame[0] = (byte) (len >>> 24);
            frame[1] = (byte) (len >>> 16);
            frame[2] = (byte) (len >>> 8);
            frame[3] = (byte) len;
            System.arraycopy(body, 0, frame, 16, body.length);
            reply = new byte[frame.length];
        }

        void roundTrip() throws IOException {
            out.write(frame);
            out.flush();
            in.readFully(reply);
        }

        @Override
        public void close() throws Exception {
            out.close();
            process.waitFor();
        }
    }

    interface Op {
        void run() throws Exception;
    }

    /** Medians in microseconds per call of each op, measured in alternating rounds after a warm-up of each. */
    private static double[] alternatingMedians(Op... ops) throws Exception {
        for (Op op : ops) {
            for (int i = 0; i < CALLS_PER_ROUND; i++) {
                op.run(); // warm-up: JIT, page cache, Python's own caches
            }
        }
        double[][] rounds = new double[ops.length][ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            for (int k = 0; k < ops.length; k++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < CALLS_PER_ROUND; i++) {
                    ops[k].run();
                }
                rounds[k][r] = (System.nanoTime() - t0) / 1e3 / CALLS_PER_ROUND;
            }
        }
        double[] medians = new double[ops.length];
        for (int k = 0; k < ops.length; k++) {
            Arrays.sort(rounds[k]);
            medians[k] = rounds[k][ROUNDS / 2];
        }
        return medians;
    }

    private static double throughput(PythonPool pool, int callers, Duration duration) throws Exception {
        LongAdder done = new LongAdder();
        CountDownLatch finished = new CountDownLatch(callers);
        long warmEnd = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        long[] window = new long[2];
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
            Thread th = new Thread(() -> {
                try {
                    long end = warmEnd + duration.toNanos();
                    while (System.nanoTime() < end) {
                        pool.call("echo", null, Void.class, CallOptions.DEFAULTS);
                        if (System.nanoTime() > warmEnd) {
                            done.increment();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    finished.countDown();
                }
            });
            threads.add(th);
            th.start();
        }
        finished.await();
        return done.sum() / (duration.toNanos() / 1e9);
    }

    private static Path copy(String resource, Path dir) throws IOException {
        Path target = dir.resolve(resource);
        try (InputStream in = Bench.class.getResourceAsStream("/bench/" + resource)) {
            Files.copy(in, target);
        }
        return target;
    }

    private static String realPython() throws Exception {
        Process p = new ProcessBuilder("python3", "-c", "import sys; print(sys.executable)").start();
        String path = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor();
        return path;
    }
}
