package io.pypool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.PoolStats;
import io.pypool.PythonPool;
import io.pypool.PythonSession;
import io.pypool.PypoolException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * pypool's main job in one command: a pool of workers serving many threads at once, some calls in
 * sessions whose state lives in one worker (checked on every call), the rest anonymous.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run a mixed workload from many threads against a pool of bundled example handlers.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--workers", defaultValue = "4", description = "Python worker processes (default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--threads", defaultValue = "32", description = "Java caller threads (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--seconds", defaultValue = "8", description = "How long to run (default ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--sessions", defaultValue = "32", description = "Concurrent sessions (default ${DEFAULT-VALUE})")
    int sessions;

    @Option(names = "--python", description = "Python executable (default: the real interpreter behind python3)")
    String python;

    private final LongAdder calls = new LongAdder();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

    @Override
    public Integer call() throws Exception {
        System.out.printf("pypool demo: %d workers, %d threads, %d sessions, %.0f s%n", workers, threads, sessions, seconds);
        long t0 = System.nanoTime();
        var builder = PythonPool.builder().name("demo").workers(workers).handlerModules("pypool.examples")
                .callTimeout(Duration.ofSeconds(10))
                // A Java function the bundled 'quote' handler calls back: prices live on the Java side.
                .javaFunction("prices.lookup", args -> 100 + Math.floorMod(args.get("sku").asText().hashCode(), 900));
        if (python != null) {
            builder.pythonExecutable(python);
        }
        try (PythonPool pool = builder.build()) {
            System.out.printf("pool ready in %.0f ms%n", (System.nanoTime() - t0) / 1e6);
            List<PythonSession> sessionList = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                sessionList.add(pool.session("demo-session-" + i));
            }
            long[] expectedTotals = new long[sessions];
            long[][] latencies = new long[threads][];
            long end = System.nanoTime() + (long) (seconds * 1e9);
            CountDownLatch done = new CountDownLatch(threads);
            List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                Thread caller = new Thread(() -> {
                    try {
                        latencies[thread] = runCaller(pool, thread, sessionList, expectedTotals, end);
                    } finally {
                        done.countDown();
                    }
                }, "demo-caller-" + t);
                callers.add(caller);
                caller.start();
            }
            long started = System.nanoTime();
            long lastCalls = 0;
            long lastTime = started;
            while (!done.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
                long now = System.nanoTime();
                long total = calls.sum();
                System.out.printf("  %5.1f s  %,10d calls  %,8.0f calls/s  errors %d  queued %d%n",
                        (now - started) / 1e9, total, (total - lastCalls) / ((now - lastTime) / 1e9),
                        errors.values().stream().mapToLong(LongAdder::sum).sum(), pool.stats().queuedCalls());
                lastCalls = total;
                lastTime = now;
            }
            double elapsed = (System.nanoTime() - started) / 1e9;
            report(pool, sessionList, expectedTotals, latencies, elapsed);
            conversations(pool);
            for (PythonSession s : sessionList) {
                s.close();
            }
        }
        return errors.isEmpty() ? 0 : 1;
    }

    private long[] runCaller(PythonPool pool, int thread, List<PythonSession> sessionList, long[] expectedTotals, long end) {
        long[] lat = new long[1 << 16];
        int n = 0;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        // Each session belongs to one thread, so that its expected total needs no locking.
        List<Integer> mine = new ArrayList<>();
        for (int s = thread; s < sessionList.size(); s += threads) {
            mine.add(s);
        }
        while (System.nanoTime() < end) {
            long begin = System.nanoTime();
            try {
                int pick = random.nextInt(10);
                if (pick < 4 && !mine.isEmpty()) {
                    int s = mine.get(random.nextInt(mine.size()));
                    int by = 1 + random.nextInt(9);
                    JsonNode r = sessionList.get(s).call("counter.add", Map.of("by", by));
                    expectedTotals[s] += by;
                    check(r.get("total").asLong() == expectedTotals[s], "session state");
                } else if (pick < 6) {
                    int a = random.nextInt(1000);
                    int b = random.nextInt(1000);
                    check(pool.call("add", Map.of("a", a, "b", b), Integer.class) == a + b, "add");
                } else if (pick < 8) {
                    String nonce = thread + "-" + n;
                    check(nonce.equals(pool.call("echo", Map.of("value", nonce), String.class)), "echo");
                } else if (pick < 9) {
                    JsonNode r = pool.call("text.stats", Map.of("text", "the quick brown fox " + n));
                    check(r.get("words").asInt() == 5, "text.stats");
                } else {
                    check(pool.call("primes", Map.of("below", 200), int[].class).length == 46, "primes");
                }
                calls.increment();
            } catch (PypoolException e) {
                errors.computeIfAbsent(e.getClass().getSimpleName(), k -> new LongAdder()).increment();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (IllegalStateException e) {
                errors.computeIfAbsent("WrongResult(" + e.getMessage() + ")", k -> new LongAdder()).increment();
            }
            if (n == lat.length) {
                lat = Arrays.copyOf(lat, n * 2);
            }
            lat[n++] = System.nanoTime() - begin;
        }
        return Arrays.copyOf(lat, n);
    }

    /** A stream, a callback into Java and a cancel, once each, to show what goes beyond one call. */
    private void conversations(PythonPool pool) throws InterruptedException {
        long t0 = System.nanoTime();
        List<String> words;
        try (Stream<String> tokens = pool.stream("tokens", Map.of("text", "streamed one word at a time"), String.class)) {
            words = tokens.toList();
        }
        System.out.printf("stream: %s in %.1f ms%n", words, (System.nanoTime() - t0) / 1e6);
        check(words.size() == 6, "stream");
        JsonNode quote = pool.call("quote", Map.of("sku", "demo-sku", "qty", 3));
        System.out.printf("callback: 'quote' asked Java for the price of %s: %d x %d = %d%n", quote.get("sku").asText(),
                quote.get("qty").asInt(), quote.get("unit").asInt(), quote.get("total").asInt());
        check(quote.get("total").asInt() == 3 * quote.get("unit").asInt(), "callback");
        CompletableFuture<JsonNode> slow = pool.callAsync("wait", Map.of("ms", 5_000));
        long c0 = System.nanoTime();
        slow.cancel(true);
        await(() -> pool.stats().workers().stream().mapToInt(PoolStats.Worker::inFlight).sum() == 0);
        System.out.printf("cancel: a 5 s call given up, its handler stopped and its slot free again after %.1f ms%n",
                (System.nanoTime() - c0) / 1e6);
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(1);
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }

    private void report(PythonPool pool, List<PythonSession> sessionList, long[] expectedTotals, long[][] latencies,
                        double elapsed) throws InterruptedException {
        PoolStats stats = pool.stats();
        System.out.println();
        System.out.println("workers:");
        for (PoolStats.Worker w : stats.workers()) {
            System.out.printf("  %-4s pid %-8d %-6s calls served %,9d  sessions %d%n",
                    w.id(), w.pid(), w.state(), w.callsServed(), w.sessions());
        }
        JsonNode ping = pool.call("ping", null);
        System.out.printf("python: %s (pid %d answered ping)%n", ping.path("python").asText(), ping.path("pid").asLong());
        long total = calls.sum();
        System.out.printf("calls: %,d in %.1f s = %,.0f calls/s%n", total, elapsed, total / elapsed);
        long[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
        if (all.length > 0) {
            System.out.printf("latency: p50 %.3f ms  p99 %.3f ms  max %.3f ms%n",
                    all[all.length / 2] / 1e6, all[(int) (all.length * 0.99)] / 1e6, all[all.length - 1] / 1e6);
        }
        int verified = 0;
        for (int s = 0; s < sessionList.size(); s++) {
            JsonNode state = sessionList.get(s).call("counter.get", null);
            if (state.get("total").asLong() == expectedTotals[s]) {
                verified++;
            } else {
                errors.computeIfAbsent("WrongResult(final session total)", k -> new LongAdder()).increment();
            }
        }
        System.out.printf("sessions: %d, final state matched in %d; per worker: %s%n", sessionList.size(), verified,
                stats.workers().stream().map(w -> w.id() + "=" + w.sessions()).toList());
        if (errors.isEmpty()) {
            System.out.println("errors: none");
        } else {
            Map<String, Long> byKind = new TreeMap<>();
            errors.forEach((k, v) -> byKind.put(k, v.sum()));
            System.out.println("errors by kind: " + byKind);
        }
    }
}
