package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.testkit.PypoolExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cancels in storms, at every moment of a call's life, against handlers that swallow them: no slot,
 * queue entry or Python-side request may be left behind, and no worker may be lost to cancels alone.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostileCancellationTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path tmp;

    private static int inFlight(PythonPool pool) {
        return pool.stats().workers().stream().mapToInt(PoolStats.Worker::inFlight).sum();
    }

    /**
     * What every worker holds on the Python side, once settled: nothing but the stats request
     * itself (a request is forgotten just after its reply is written, so look until it is).
     */
    private static void assertPythonSideEmpty(PythonPool pool) {
        java.util.Set<String> clean = java.util.concurrent.ConcurrentHashMap.newKeySet();
        AtomicReference<JsonNode> last = new AtomicReference<>();
        int workers = pool.stats().workers().size();
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(20)).until(() -> {
            JsonNode stats = pool.call("stats", null);
            last.set(stats);
            if (stats.get("in_flight").asInt() == 1 && stats.get("streams").asInt() == 0
                    && stats.get("callbacks").asInt() == 0) {
                clean.add(stats.get("worker").asText());
            }
            return clean.size() == workers;
        });
    }

    @Test
    void thousandsOfCallsCancelledRightAfterSubmitLeaveNothingBehind() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2).maxQueuedCalls(10_000));
        List<Long> pids = TestPools.pids(pool);
        List<CompletableFuture<Integer>> all = new ArrayList<>();
        boolean[] cancelled = new boolean[4000];
        for (int i = 0; i < 4000; i++) {
            CompletableFuture<Integer> f = pool.callAsync("hc.fast", Map.of("i", i), Integer.class);
            all.add(f);
            if (i % 4 != 3) {
                // three in four, at once: queued, being written, running, or answered already
                cancelled[i] = f.cancel(true);
            }
        }
        for (int i = 0; i < all.size(); i++) {
            CompletableFuture<Integer> f = all.get(i);
            if (cancelled[i]) {
                assertThat(f).isCancelled();
            } else {
                assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(i);
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> inFlight(pool) == 0 && pool.stats().queuedCalls() == 0);
        assertThat(TestPools.pids(pool)).containsExactlyInAnyOrderElementsOf(pids);
        assertThat(pool.stats().restarts()).isZero();
        assertPythonSideEmpty(pool);
    }

    @Test
    void cancellingLongRunningCheckingHandlersEverywhereAtOnceFreesEverySlot() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2).maxInFlightPerWorker(8)
                .handlerThreads(4).maxQueuedCalls(1000));
        List<Long> pids = TestPools.pids(pool);
        List<CompletableFuture<String>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(pool.callAsync("c.until_cancelled", Map.of("marker", tmp.resolve("m" + i).toString()), String.class));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) >= 8
                && inFlight(pool) + pool.stats().queuedCalls() == 200);
        for (int i = all.size() - 1; i >= 0; i--) { // the queued ones first: none is promoted into a freed slot
            all.get(i).cancel(true);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> inFlight(pool) == 0 && pool.stats().queuedCalls() == 0);
        long ranAndCancelled = java.util.stream.IntStream.range(0, 200)
                .filter(i -> Files.exists(tmp.resolve("m" + i))).count();
        assertThat(ranAndCancelled).as("only the calls that had started ran, and each saw its cancel").isBetween(8L, 16L);
        assertThat(TestPools.pids(pool)).containsExactlyInAnyOrderElementsOf(pids);
        assertThat(pool.stats().restarts()).isZero();
        assertPythonSideEmpty(pool);
    }

    @Test
    void cancellingEveryCallOfASessionsStrandLeavesTheSessionUsable() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2));
        try (PythonSession s = pool.newSession()) {
            assertThat(s.call("t.remember", Map.of("key", "k", "value", 1)).get("keys").size()).isEqualTo(1);
            List<CompletableFuture<Double>> all = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                all.add(s.callAsync("hc.sleep", Map.of("s", 0.002), Double.class));
            }
            for (int i = all.size() - 1; i >= 0; i--) { // from the back: the strand's order must hold
                all.get(i).cancel(true);
            }
            assertThat(s.call("t.recall", Map.of("key", "k")).get("value").asInt()).isEqualTo(1);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> inFlight(pool) == 0 && pool.stats().queuedCalls() == 0);
        assertThat(pool.stats().restarts()).isZero();
    }

    @Test
    void interruptingFortyBlockedCallersAtOnceFreesTheirSlots() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2).maxInFlightPerWorker(32).handlerThreads(32));
        List<Long> pids = TestPools.pids(pool);
        List<Thread> callers = new ArrayList<>();
        AtomicInteger interrupted = new AtomicInteger();
        AtomicReference<Throwable> other = new AtomicReference<>();
        for (int i = 0; i < 40; i++) {
            String marker = tmp.resolve("i" + i).toString();
            Thread t = new Thread(() -> {
                try {
                    pool.call("c.until_cancelled", Map.of("marker", marker), String.class);
                } catch (InterruptedException e) {
                    interrupted.incrementAndGet();
                } catch (Throwable e) {
                    other.set(e);
                }
            });
            t.start();
            callers.add(t);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> inFlight(pool) == 40);
        callers.forEach(Thread::interrupt);
        for (Thread t : callers) {
            t.join(10_000);
            assertThat(t.isAlive()).isFalse();
        }
        assertThat(other.get()).isNull();
        assertThat(interrupted.get()).isEqualTo(40);
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0);
        assertThat(TestPools.pids(pool)).containsExactlyInAnyOrderElementsOf(pids);
        assertPythonSideEmpty(pool);
    }

    @Test
    void aHandlerThatSwallowsCancelledAndReturnsSoonKeepsItsWorker() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        Path marker = tmp.resolve("m");
        CompletableFuture<Integer> f = pool.callAsync("hc.swallow_cancel", Map.of("run_s", 1.0, "marker", marker.toString()),
                Integer.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> inFlight(pool) == 1);
        f.cancel(true);
        assertThatThrownBy(f::join).isInstanceOf(CancellationException.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(marker));
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0);
        assertThat(TestPools.pids(pool)).containsExactly(pid);
    }

    @Test
    void aHandlerThatSwallowsCancelledPastItsDeadlineIsRetiredByTheOverrunRule() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        long start = System.nanoTime();
        assertThatThrownBy(() -> pool.call("hc.swallow_cancel", Map.of("run_s", 30.0), Integer.class,
                CallOptions.timeout(Duration.ofMillis(500)))).isInstanceOf(CallTimeoutException.class);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3_000);
        // Deadline 0.5 s + grace 1 s: replaced long before the handler's own 30 s.
        await().atMost(Duration.ofSeconds(15)).until(() -> TestPools.allReady(pool, 1) && !TestPools.pids(pool).contains(pid));
        assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
    }

    @Test
    void cancelsRacingRepliesAtRandomMomentsNeverCostAWorker() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2).maxInFlightPerWorker(8).handlerThreads(2)
                .maxQueuedCalls(10_000));
        List<Long> pids = TestPools.pids(pool);
        CountDownLatch done = new CountDownLatch(4);
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        for (int t = 0; t < 4; t++) {
            new Thread(() -> {
                try {
                    for (int i = 0; i < 500; i++) {
                        CompletableFuture<Double> f = pool.callAsync("hc.sleep",
                                Map.of("s", ThreadLocalRandom.current().nextInt(3) / 1000.0), Double.class);
                        if (ThreadLocalRandom.current().nextBoolean()) {
                            java.util.concurrent.locks.LockSupport.parkNanos(ThreadLocalRandom.current().nextInt(2_000_000));
                            f.cancel(true);
                        }
                        try {
                            f.get(30, TimeUnit.SECONDS);
                        } catch (CancellationException expected) {
                            // cancelled before its reply
                        }
                    }
                } catch (Throwable e) {
                    unexpected.set(e);
                } finally {
                    done.countDown();
                }
            }).start();
        }
        assertThat(done.await(100, TimeUnit.SECONDS)).isTrue();
        assertThat(unexpected.get()).isNull();
        await().atMost(Duration.ofSeconds(20)).until(() -> inFlight(pool) == 0 && pool.stats().queuedCalls() == 0);
        assertThat(TestPools.pids(pool)).containsExactlyInAnyOrderElementsOf(pids);
        assertThat(pool.stats().restarts()).isZero();
        assertPythonSideEmpty(pool);
    }

    /**
     * One handler thread: a reply is held back ("corked") while more input is buffered, on the
     * guess that more requests follow. When what follows is only control frames (CANCEL here),
     * the thread reads them and then blocks on the input with the reply still held: the host,
     * which sends nothing more to a worker whose only handler thread is busy, waits for it until
     * the call's deadline, and then retires the worker as hung.
     */
    @Test
    void aReplyIsNeverHeldBackBehindTrailingCancels() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1).maxQueuedCalls(10_000));
        long pid = TestPools.pids(pool).get(0);
        for (int round = 0; round < 20; round++) {
            List<CompletableFuture<Integer>> kept = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                CompletableFuture<Integer> f = pool.callAsync("hc.fast", Map.of("i", i), Integer.class,
                        CallOptions.timeout(Duration.ofSeconds(5)));
                if (i % 2 == 0) {
                    f.cancel(true);
                } else {
                    kept.add(f);
                }
            }
            for (CompletableFuture<Integer> f : kept) {
                assertThat(f).as("round %d", round).succeedsWithin(Duration.ofSeconds(10));
            }
        }
        assertThat(TestPools.pids(pool)).containsExactly(pid);
        assertThat(pool.stats().restarts()).isZero();
    }

    /**
     * The same with no cancel at all: a stream's CREDIT frames trail the requests of plain calls
     * made meanwhile. A plain call must never wait for its reply until its deadline.
     */
    @Test
    void plainCallsNextToAStreamNeverWaitOnAHeldBackReply() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1).callTimeout(Duration.ofSeconds(60)));
        long pid = TestPools.pids(pool).get(0);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread consumer = new Thread(() -> {
            try (java.util.stream.Stream<Integer> s = pool.stream("s.count", Map.of("n", 100_000_000), Integer.class,
                    StreamOptions.DEFAULTS.withWindow(1, 1 << 20))) {
                java.util.Iterator<Integer> it = s.iterator();
                while (!stop.get() && it.hasNext()) {
                    it.next(); // window 1: a CREDIT frame for every item
                }
            }
        });
        consumer.start();
        try {
            for (int i = 0; i < 3000; i++) {
                assertThat(pool.call("hc.fast", Map.of("i", i), Integer.class, CallOptions.timeout(Duration.ofSeconds(3))))
                        .isEqualTo(i);
            }
        } finally {
            stop.set(true);
            consumer.join(10_000);
        }
        assertThat(TestPools.pids(pool)).containsExactly(pid);
    }
}
