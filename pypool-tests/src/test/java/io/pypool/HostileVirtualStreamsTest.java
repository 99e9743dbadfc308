package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pypool.testkit.PypoolExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Streams and callbacks under virtual threads: hundreds of consumers parked on items, interrupted
 * while parked, and Java functions run on virtual threads that call the pool again. Runs only on
 * a JDK with virtual threads (e.g. {@code -Djvm=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}).
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostileVirtualStreamsTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    private static ExecutorService virtualThreads() {
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException e) {
            assumeTrue(false, "no virtual threads on this JDK");
            throw new AssertionError(e);
        }
    }

    private static int inFlight(PythonPool pool) {
        return pool.stats().workers().stream().mapToInt(PoolStats.Worker::inFlight).sum();
    }

    @Test
    void fourHundredVirtualThreadsEachReadTheirOwnStream() throws Exception {
        ExecutorService exec = virtualThreads();
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2).callTimeout(Duration.ofSeconds(150)));
        List<Long> pids = TestPools.pids(pool);
        List<Future<List<Integer>>> all = new ArrayList<>();
        try {
            for (int t = 0; t < 400; t++) {
                all.add(exec.submit(() -> {
                    try (Stream<Integer> s = pool.stream("hc.slow_count", Map.of("n", 20, "delay_ms", 2), Integer.class,
                            StreamOptions.DEFAULTS.withWindow(2, 1 << 20))) {
                        return s.toList();
                    }
                }));
            }
            List<Integer> expected = IntStream.range(0, 20).boxed().toList();
            for (Future<List<Integer>> f : all) {
                assertThat(f.get(150, TimeUnit.SECONDS)).isEqualTo(expected);
            }
        } finally {
            exec.shutdownNow();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0 && pool.stats().queuedCalls() == 0);
        assertThat(TestPools.pids(pool)).containsExactlyInAnyOrderElementsOf(pids);
    }

    @Test
    void interruptingAHundredVirtualConsumersParkedOnSilentStreams() throws Exception {
        ExecutorService exec = virtualThreads();
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2));
        List<Long> pids = TestPools.pids(pool);
        CountDownLatch parked = new CountDownLatch(100);
        ConcurrentLinkedQueue<Throwable> outcomes = new ConcurrentLinkedQueue<>();
        List<Future<?>> consumers = new ArrayList<>();
        try {
            for (int t = 0; t < 100; t++) {
                consumers.add(exec.submit(() -> {
                    try (Stream<String> s = pool.stream("hc.silent_until_cancelled", null, String.class)) {
                        Iterator<String> it = s.iterator();
                        assertThat(it.next()).isEqualTo("first");
                        parked.countDown();
                        it.hasNext(); // parks: nothing more comes
                        outcomes.add(new AssertionError("hasNext returned"));
                    } catch (Throwable e) {
                        outcomes.add(e);
                    }
                    return null;
                }));
            }
            assertThat(parked.await(60, TimeUnit.SECONDS)).as("every consumer got its first item").isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 100);
            consumers.forEach(f -> f.cancel(true)); // interrupts each virtual thread
            await().atMost(Duration.ofSeconds(20)).until(() -> outcomes.size() == 100);
            assertThat(outcomes).allSatisfy(e -> assertThat(e).isInstanceOf(CancellationException.class));
        } finally {
            exec.shutdownNow();
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> inFlight(pool) == 0);
        assertThat(TestPools.pids(pool)).containsExactlyInAnyOrderElementsOf(pids);
    }

    @Test
    void javaFunctionsOnVirtualThreadsCallThePoolAgain() throws Exception {
        ExecutorService fnThreads = virtualThreads();
        java.util.concurrent.atomic.AtomicReference<PythonPool> self = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2).javaFunctionExecutor(fnThreads)
                    .callTimeout(Duration.ofSeconds(60))
                    .javaFunction("nested", args -> self.get().call("hc.fast", Map.of("i", args.get("n").asInt()),
                            Integer.class)));
            self.set(pool);
            List<java.util.concurrent.CompletableFuture<Integer>> all = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                Map<String, Object> m = new java.util.HashMap<>();
                m.put("name", "nested");
                m.put("args", Map.of("n", i));
                all.add(pool.callAsync("j.call_async", m, Integer.class));
            }
            for (int i = 0; i < all.size(); i++) {
                assertThat(all.get(i).get(60, TimeUnit.SECONDS)).isEqualTo(i);
            }
            assertThat(pool.stats().restarts()).isZero();
        } finally {
            fnThreads.shutdownNow();
        }
    }
}
