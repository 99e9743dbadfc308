package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.testkit.PypoolExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Callbacks into Java against hostile functions, executors and call graphs: Errors and broken
 * exceptions, results too big or unwritable, executors that refuse or drop work, recursion through
 * the pool, sessions reached again by a detour, and the pool closing under it all.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostileCallbacksTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    private static Map<String, Object> javaCall(String name, Object args, double timeout) {
        Map<String, Object> m = TestPools.javaCall(name, args);
        m.put("timeout", timeout);
        return m;
    }

    private static int inFlight(PythonPool pool) {
        return pool.stats().workers().stream().mapToInt(PoolStats.Worker::inFlight).sum();
    }

    // ---- functions that fail badly -------------------------------------------------------------

    static int recurseForever(int n) {
        return recurseForever(n + 1) + 1;
    }

    /** An exception whose getMessage() itself throws: libraries with lazy, broken messages exist. */
    static final class BrokenMessage extends RuntimeException {
        @Override
        public String getMessage() {
            throw new IllegalStateException("getMessage() is broken too");
        }
    }

    /** Threads whose uncaught Errors (rethrown by the pool after answering) reach no other test's awaits. */
    private static ExecutorService quietThreads() {
        return Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "quiet-java-fn");
            t.setDaemon(true);
            t.setUncaughtExceptionHandler((thread, e) -> {});
            return t;
        });
    }

    @Test
    void everyKindOfThrowableReachesPythonAsAJavaErrorAndTheWorkerServesOn() throws Exception {
        ExecutorService fnThreads = quietThreads();
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1).javaFunctionExecutor(fnThreads)
                .javaFunction("soe", args -> recurseForever(0))
                .javaFunction("oom", args -> {
                    throw new OutOfMemoryError("simulated: Java heap space");
                })
                .javaFunction("assert", args -> {
                    throw new AssertionError("an assertion");
                })
                .javaFunction("checked", args -> {
                    throw new java.io.IOException("disk gone");
                })
                .javaFunction("nullMessage", args -> {
                    throw new NullPointerException();
                })
                .javaFunction("ok", args -> "fine"));
        long pid = TestPools.pids(pool).get(0);
        Map<String, String> expected = Map.of("soe", "java.lang.StackOverflowError", "oom", "java.lang.OutOfMemoryError",
                "assert", "java.lang.AssertionError", "checked", "java.io.IOException",
                "nullMessage", "java.lang.NullPointerException");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            JsonNode caught = pool.call("hc.catch_java", javaCall(e.getKey(), null, 10.0));
            assertThat(caught.get("type").asText()).as(e.getKey()).isEqualTo(e.getValue());
            assertThat(pool.call("hc.catch_java", javaCall("ok", null, 10.0)).get("result").asText()).isEqualTo("fine");
        }
        assertThat(TestPools.pids(pool)).containsExactly(pid);
        fnThreads.shutdownNow();
    }

    @Test
    void anExceptionWhoseMessageCannotBeReadIsStillAnsweredAtOnce() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1)
                .javaFunction("broken", args -> {
                    throw new BrokenMessage();
                }));
        long start = System.nanoTime();
        JsonNode caught = pool.call("hc.catch_java", javaCall("broken", null, 10.0));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(caught.get("type").asText()).as("answered as a JavaError, not left to time out: %s", caught)
                .isNotEqualTo("timeout").contains("BrokenMessage");
        assertThat(tookMillis).isLessThan(5_000);
    }

    static final class Unwritable {
        public String getValue() {
            throw new IllegalStateException("this getter always fails");
        }
    }

    @Test
    void resultsTooBigOrUnwritableAreJavaErrorsNotHangs() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1).maxFrameBytes(256 * 1024)
                .javaFunction("huge", args -> "x".repeat(1_000_000))
                .javaFunction("object", args -> new Object())
                .javaFunction("getter", args -> new Unwritable())
                .javaFunction("cycle", args -> {
                    List<Object> l = new ArrayList<>();
                    l.add(l);
                    return l;
                })
                .javaFunction("almost", args -> "y".repeat(200_000)));
        for (String fn : List.of("huge", "object", "getter", "cycle")) {
            JsonNode caught = pool.call("hc.catch_java", javaCall(fn, null, 10.0));
            assertThat(caught.has("result")).as("%s: %s", fn, caught).isFalse();
            assertThat(caught.get("type").asText()).as("%s: %s", fn, caught).isNotEqualTo("timeout");
        }
        assertThat(pool.call("hc.catch_java", javaCall("almost", null, 10.0)).get("result").asText()).hasSize(200_000);
        // Arguments over the frame limit fail in Python, before anything is sent.
        Map<String, Object> padded = javaCall("almost", null, 10.0);
        padded.put("pad", 300_000);
        JsonNode tooBig = pool.call("hc.catch_java", padded);
        assertThat(tooBig.get("type").asText()).isEqualTo("python:ValueError");
    }

    // ---- hostile executors ---------------------------------------------------------------------

    @Test
    void anExecutorThatRefusesOrIsShutDownGivesJavaErrors() throws Exception {
        PythonPool refusing = pools.start(HostileStreamsTest.hostile().workers(1)
                .javaFunctionExecutor(r -> {
                    throw new RejectedExecutionException("no room");
                })
                .javaFunction("ok", args -> "fine"));
        for (int i = 0; i < 20; i++) {
            JsonNode caught = refusing.call("hc.catch_java", javaCall("ok", null, 10.0));
            assertThat(caught.get("type").asText()).isEqualTo("java.util.concurrent.RejectedExecutionException");
        }
        assertThat(refusing.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);

        ExecutorService shut = Executors.newSingleThreadExecutor();
        shut.shutdown();
        PythonPool closed = pools.start(HostileStreamsTest.hostile().workers(1).javaFunctionExecutor(shut)
                .javaFunction("ok", args -> "fine"));
        JsonNode caught = closed.call("hc.catch_java", javaCall("ok", null, 10.0));
        assertThat(caught.get("type").asText()).isEqualTo("java.util.concurrent.RejectedExecutionException");
    }

    @Test
    void anExecutorThatSilentlyDropsWorkEndsInJavaTimeoutsAndTheWorkerServesOn() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1)
                .javaFunctionExecutor(r -> { /* dropped */ })
                .javaFunction("ok", args -> "fine"));
        long pid = TestPools.pids(pool).get(0);
        JsonNode caught = pool.call("hc.catch_java", javaCall("ok", null, 0.5));
        assertThat(caught.get("type").asText()).isEqualTo("timeout");
        List<CompletableFuture<Integer>> many = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            many.add(pool.callAsync("hc.fast", Map.of("i", i), Integer.class));
        }
        for (int i = 0; i < many.size(); i++) {
            assertThat(many.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(i);
        }
        assertThat(TestPools.pids(pool)).containsExactly(pid);
    }

    // ---- recursion through the pool ------------------------------------------------------------

    @Test
    void deepRecursionThroughAsyncHandlersOnOneWorker() throws Exception {
        AtomicReference<PythonPool> self = new AtomicReference<>();
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1).callTimeout(Duration.ofSeconds(60))
                .javaFunction("recurse", args -> self.get().call("hc.recurse_async",
                        Map.of("depth", args.get("depth").asInt()), Integer.class)));
        self.set(pool);
        assertThat(pool.call("hc.recurse_async", Map.of("depth", 40), Integer.class)).isEqualTo(40);
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0);
        assertThat(pool.stats().restarts()).isZero();
    }

    @Test
    void recursionDeeperThanThePoolTimesOutAtTheOuterDeadlineAndLeavesNothingBehind() throws Exception {
        AtomicReference<PythonPool> self = new AtomicReference<>();
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2)
                .javaFunction("recurse", args -> self.get().call("hc.recurse_sync",
                        Map.of("depth", args.get("depth").asInt()), Integer.class)));
        self.set(pool);
        List<Long> pids = TestPools.pids(pool);
        long start = System.nanoTime();
        assertThatThrownBy(() -> pool.call("hc.recurse_sync", Map.of("depth", 6), Integer.class,
                CallOptions.timeout(Duration.ofSeconds(2)))).isInstanceOf(CallTimeoutException.class);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(6_000);
        await().atMost(Duration.ofSeconds(15)).until(() -> inFlight(pool) == 0 && pool.stats().queuedCalls() == 0);
        assertThat(TestPools.pids(pool)).as("a cancel alone never ends a worker").containsExactlyInAnyOrderElementsOf(pids);
        assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
    }

    /**
     * A call in session S waits on a Java function, which makes an anonymous call, whose handler
     * calls another Java function, which calls into S again. That call can only wait for the
     * handler that (through the detour) waits on it: it should fail at once with
     * SessionReentryException, as the direct case does, not sit in the strand until the deadline.
     */
    @Test
    void reenteringASessionThroughADetourFailsAtOnce() throws Exception {
        AtomicReference<PythonPool> self = new AtomicReference<>();
        AtomicReference<PythonSession> session = new AtomicReference<>();
        AtomicReference<Throwable> innermost = new AtomicReference<>();
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2)
                .javaFunction("detour", args -> self.get().call("hc.catch_java", TestPools.javaCall("reenter", null), JsonNode.class))
                .javaFunction("reenter", args -> {
                    try {
                        return session.get().call("hc.session_calls", null, Integer.class);
                    } catch (Throwable t) {
                        innermost.set(t);
                        throw t;
                    }
                }));
        self.set(pool);
        try (PythonSession s = pool.newSession()) {
            session.set(s);
            long start = System.nanoTime();
            try {
                s.call("hc.call_java_in_session", TestPools.javaCall("detour", null), JsonNode.class,
                        CallOptions.timeout(Duration.ofSeconds(8)));
            } catch (PypoolException ignored) {
                // what the outer call gets is secondary: the inner call's fate is the point
            }
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            await().atMost(Duration.ofSeconds(15)).until(() -> innermost.get() != null);
            assertThat(innermost.get()).isInstanceOf(SessionReentryException.class);
            assertThat(tookMillis).isLessThan(4_000);
        }
    }

    @Test
    void aNestedStreamInsideAJavaFunctionInheritsTheOuterDeadline() throws Exception {
        AtomicReference<PythonPool> self = new AtomicReference<>();
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2)
                .javaFunction("collect", args -> {
                    try (Stream<Integer> s = self.get().stream("hc.slow_count", Map.of("n", 10_000, "delay_ms", 5),
                            Integer.class, StreamOptions.DEFAULTS.withTimeout(Duration.ofSeconds(60)))) {
                        return s.count();
                    }
                })
                .javaFunction("quick", args -> {
                    try (Stream<Integer> s = self.get().stream("s.count", Map.of("n", 500), Integer.class)) {
                        return s.mapToInt(Integer::intValue).sum();
                    }
                }));
        self.set(pool);
        assertThat(pool.call("j.call", TestPools.javaCall("quick", null), Integer.class)).isEqualTo(499 * 500 / 2);
        long start = System.nanoTime();
        assertThatThrownBy(() -> pool.call("j.call", TestPools.javaCall("collect", null), Long.class,
                CallOptions.timeout(Duration.ofMillis(800)))).isInstanceOf(CallTimeoutException.class);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
        // The nested stream had only the outer call's time: it ends too, and gives its slot back.
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0);
        assertThat(pool.stats().restarts()).isZero();
    }

    /**
     * Async handlers hold no handler thread, so a worker takes up to maxInFlightPerWorker of them
     * at once. When every slot holds an async handler waiting on a Java function, and each
     * function makes a nested call, the nested calls must neither queue behind the outer calls
     * still waiting for a slot nor wait for a slot that only their own outer calls hold: else
     * nothing moves until the deadlines, and then everything fails.
     */
    @Test
    void nestedCallsAreNotStarvedByOuterCallsQueuedAheadOfThem() throws Exception {
        AtomicReference<PythonPool> self = new AtomicReference<>();
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1).maxInFlightPerWorker(4)
                .callTimeout(Duration.ofSeconds(10))
                .javaFunction("nested", args -> self.get().call("hc.fast", Map.of("i", args.get("n").asInt()),
                        Integer.class)));
        self.set(pool);
        List<CompletableFuture<Integer>> all = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            all.add(pool.callAsync("j.call_async", TestPools.javaCall("nested", Map.of("n", i)), Integer.class));
        }
        for (int i = 0; i < all.size(); i++) {
            assertThat(all.get(i)).as("outer call %d", i).succeedsWithin(Duration.ofSeconds(15)).isEqualTo(i);
        }
    }

    // ---- where and how Python calls ------------------------------------------------------------

    @Test
    void syncCallJavaFromAnAsyncHandlerAndFromAHandlersOwnThreadStillWork() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1)
                .javaFunction("twice", args -> args == null || args.isNull() ? "none" : args.get("x").asInt() * 2));
        assertThat(pool.call("hc.sync_java_in_async", TestPools.javaCall("twice", Map.of("x", 21)), Integer.class)).isEqualTo(42);
        JsonNode fromThread = pool.call("hc.java_from_thread", Map.of("name", "twice"));
        assertThat(fromThread.path("result").asText()).as("%s", fromThread).isEqualTo("none");
    }

    @Test
    void hundredsOfConcurrentCallbacksEachGetTheirOwnAnswer() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2).maxInFlightPerWorker(16)
                .javaFunction("echo", args -> args.get("n").asInt()));
        List<CompletableFuture<Integer>> all = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            String cmd = i % 2 == 0 ? "j.call" : "j.call_async";
            all.add(pool.callAsync(cmd, TestPools.javaCall("echo", Map.of("n", i)), Integer.class));
        }
        for (int i = 0; i < all.size(); i++) {
            assertThat(all.get(i).get(60, TimeUnit.SECONDS)).isEqualTo(i);
        }
        try (Stream<Integer> s = pool.stream("hc.java_stream", Map.of("name", "echo", "n", 0), Integer.class)) {
            assertThat(s.toList()).isEmpty();
        }
        assertThat(pool.stats().restarts()).isZero();
    }

    // ---- the pool closing under callbacks and streams ----------------------------------------------

    @Test
    void closingThePoolWhileHandlersWaitOnJavaAndStreamsRunReturnsAndFailsEveryCaller() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(6);
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2).maxInFlightPerWorker(8)
                .javaFunction("block", args -> {
                    entered.countDown();
                    while (true) { // ignores interrupts: a function that will not stop
                        try {
                            never.await();
                            return "released";
                        } catch (InterruptedException e) {
                            // swallowed
                        }
                    }
                }));
        List<CompletableFuture<?>> callers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            callers.add(pool.callAsync("j.call", TestPools.javaCall("block", null), String.class));
        }
        List<Stream<Integer>> streams = new ArrayList<>();
        List<java.util.Iterator<Integer>> readers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Stream<Integer> s = pool.stream("s.count", Map.of("n", 1_000_000), Integer.class,
                    StreamOptions.DEFAULTS.withWindow(2, 1 << 20));
            java.util.Iterator<Integer> it = s.iterator();
            assertThat(it.next()).isZero();
            streams.add(s);
            readers.add(it);
        }
        assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();
        long start = System.nanoTime();
        pool.close();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(15_000);
        for (CompletableFuture<?> f : callers) {
            assertThat(f).failsWithin(Duration.ofSeconds(5)).withThrowableThat().havingRootCause()
                    .isInstanceOf(PypoolException.class);
        }
        for (java.util.Iterator<Integer> it : readers) {
            assertThatThrownBy(() -> it.forEachRemaining(i -> {})).isInstanceOf(PoolClosedException.class);
        }
        streams.forEach(Stream::close);
        never.countDown();
    }

    /** Live, non-zombie processes whose command line carries this run id. */
    private static List<Long> processesOf(String runId) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> {
                    int i = java.util.Arrays.asList(a).indexOf("--run-id");
                    return i >= 0 && i + 1 < a.length && a[i + 1].equals(runId);
                }).orElse(false))
                .map(ProcessHandle::pid).filter(TestPools::alive).toList();
    }

    /**
     * close() returns once every process of the pool has exited, and nothing is started after
     * it. That must hold on a thread that is interrupted, before or during close: a Java function
     * closing the pool is interrupted by its own outer call ending, and shutdown hooks and
     * executors being shut down interrupt their threads too.
     */
    @Test
    void closeOnAnInterruptedThreadStillStopsEveryProcessForGood() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2));
        String runId = pool.stats().runId();
        assertThat(processesOf(runId)).isNotEmpty();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread closer = new Thread(() -> {
            Thread.currentThread().interrupt();
            try {
                pool.close();
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "interrupted-closer");
        closer.start();
        closer.join(30_000);
        assertThat(closer.isAlive()).isFalse();
        assertThat(failed.get()).isNull();
        assertThat(processesOf(runId)).as("processes of the pool alive when close() returned").isEmpty();
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> processesOf(runId).isEmpty()); // and none started afterwards
    }

    @Test
    void closeInterruptedWhileItWaitsForCallsStillStopsEveryProcessForGood() throws Exception {
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(2).closeGracePeriod(Duration.ofSeconds(3)));
        String runId = pool.stats().runId();
        // A stream nobody reads keeps close() waiting through its grace period.
        Stream<Integer> unread = pool.stream("s.count", Map.of("n", 1_000_000), Integer.class,
                StreamOptions.DEFAULTS.withWindow(2, 1 << 20));
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread closer = new Thread(() -> {
            try {
                pool.close();
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "closer");
        closer.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try {
                pool.call("add", List.of(1, 1), Integer.class);
                return false;
            } catch (PoolClosedException closing) {
                return true;
            }
        });
        closer.interrupt(); // while close() waits
        closer.join(30_000);
        assertThat(closer.isAlive()).isFalse();
        assertThat(failed.get()).isNull();
        assertThat(processesOf(runId)).as("processes of the pool alive when close() returned").isEmpty();
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> processesOf(runId).isEmpty()); // and none started afterwards
        unread.close();
    }

    @Test
    void aJavaFunctionThatClosesThePoolItServesDoesNotDeadlockTheClose() throws Exception {
        AtomicReference<PythonPool> self = new AtomicReference<>();
        CompletableFuture<Throwable> afterClose = new CompletableFuture<>();
        PythonPool pool = pools.start(HostileStreamsTest.hostile().workers(1)
                .javaFunction("closeMe", args -> {
                    self.get().close();
                    try {
                        self.get().call("add", List.of(1, 2), Integer.class);
                        afterClose.complete(null);
                    } catch (Throwable t) {
                        afterClose.complete(t);
                    }
                    return "closed";
                }));
        self.set(pool);
        Future<?> caller = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "caller");
            t.setDaemon(true);
            return t;
        }).submit(() -> pool.call("j.call", TestPools.javaCall("closeMe", null), String.class));
        assertThat(afterClose.get(30, TimeUnit.SECONDS)).isInstanceOf(PoolClosedException.class);
        assertThatThrownBy(() -> caller.get(30, TimeUnit.SECONDS)).hasRootCauseInstanceOf(PypoolException.class);
    }
}
