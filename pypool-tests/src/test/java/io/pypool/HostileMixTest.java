package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.testkit.PypoolExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** 64 threads on one pipelined worker: fast, slow, async, session, short-deadline and cancelled calls at once. */
class HostileMixTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @Test
    void everyCallerGetsItsOwnReplyStrandsStayOrderedAndNothingWaitsPastItsDeadline() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).callTimeout(Duration.ofSeconds(20)));
        int threads = 64;
        int rounds = 30;
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService exec = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> all = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                all.add(exec.submit(() -> {
                    start.await();
                    PythonSession session = pool.session("s" + (id % 8), SessionOptions.DEFAULTS);
                    for (int r = 0; r < rounds; r++) {
                        String nonce = id + "-" + r;
                        long began = System.nanoTime();
                        try {
                            switch ((id + r) % 6) {
                                case 0 -> {
                                    JsonNode n = pool.call("t.echo", Map.of("nonce", nonce));
                                    if (!n.get("nonce").asText().equals(nonce)) {
                                        problems.add("got " + n + " for " + nonce);
                                    }
                                }
                                case 1 -> pool.call("t.echo", Map.of("nonce", nonce, "work_ms", 15));
                                case 2 -> pool.call("t.async_sleep", Map.of("ms", 10));
                                case 3 -> {
                                    try {
                                        pool.call("t.echo", Map.of("nonce", nonce, "work_ms", 200), JsonNode.class,
                                                CallOptions.timeout(Duration.ofMillis(50)));
                                    } catch (CallTimeoutException expected) {
                                        // fine; it must not wait much past its 50 ms
                                    }
                                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
                                    if (ms > 1500) {
                                        problems.add("a 50 ms call took " + ms + " ms");
                                    }
                                }
                                case 4 -> {
                                    CompletableFuture<JsonNode> f = pool.callAsync("t.echo", Map.of("nonce", nonce, "work_ms", 5));
                                    f.cancel(true);
                                }
                                default -> {
                                    int before = session.call("t.session_rmw", Map.of("pause_ms", 0), Integer.class);
                                    int after = session.call("t.session_rmw", Map.of("pause_ms", 0), Integer.class);
                                    if (after <= before) {
                                        problems.add("session s" + (id % 8) + " went from " + before + " to " + after);
                                    }
                                }
                            }
                        } catch (WorkerCrashedException | ProtocolException e) {
                            problems.add(e.toString());
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : all) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            exec.shutdownNow();
        }
        assertThat(problems).isEmpty();
        assertThat(pool.call("add", List.of(2, 3), Integer.class)).isEqualTo(5);
        assertThat(pool.stats().restarts()).as("restarts").isZero();
    }
}
