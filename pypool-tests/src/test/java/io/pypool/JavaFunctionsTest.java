package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.testkit.PypoolExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Python calling back into Java: results, failures, deadlines, nested calls, and workers dying under them. */
class JavaFunctionsTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @Test
    void aHandlerGetsWhatAJavaFunctionReturns() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1)
                .javaFunction("upper", args -> args.get("s").asText().toUpperCase())
                .javaFunction("nothing", args -> null)
                .javaFunction("echo", args -> args));
        assertThat(pool.call("j.call", TestPools.javaCall("upper", Map.of("s", "héllo")), String.class)).isEqualTo("HÉLLO");
        assertThat(pool.call("j.call", TestPools.javaCall("nothing", null)).isNull()).isTrue();
        assertThat(pool.call("j.call_async", TestPools.javaCall("upper", Map.of("s", "async")), String.class)).isEqualTo("ASYNC");
        JsonNode deep = pool.call("j.call", TestPools.javaCall("echo", Map.of("list", List.of(1, 2, Map.of("k", "v")))));
        assertThat(deep.get("list").get(2).get("k").asText()).isEqualTo("v");
    }

    @Test
    void rawBytesTravelBothWays() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).javaFunction("reverse", args -> {
            byte[] in = args.get("data").binaryValue();
            byte[] out = new byte[in.length];
            for (int i = 0; i < in.length; i++) {
                out[i] = in[in.length - 1 - i];
            }
            return out;
        }));
        byte[] data = new byte[200_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31);
        }
        byte[] back = pool.call("j.call", TestPools.javaCall("reverse", Map.of("data", data)), byte[].class);
        assertThat(back).hasSize(data.length);
        assertThat(back[0]).isEqualTo(data[data.length - 1]);
        assertThat(back[data.length - 1]).isEqualTo(data[0]);
    }

    @Test
    void aFunctionThatThrowsReachesPythonAsAJavaError() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1)
                .javaFunction("fail", args -> {
                    throw new IllegalStateException("the ledger is closed");
                }));
        JsonNode caught = pool.call("j.catch", TestPools.javaCall("fail", null));
        assertThat(caught.get("type").asText()).isEqualTo("java.lang.IllegalStateException");
        assertThat(caught.get("message").asText()).isEqualTo("the ledger is closed");
        assertThatThrownBy(() -> pool.call("j.call", TestPools.javaCall("fail", null)))
                .isInstanceOf(PythonException.class).hasMessageContaining("the ledger is closed")
                .hasMessageContaining("IllegalStateException");
        JsonNode unknown = pool.call("j.catch", TestPools.javaCall("no.such.fn", null));
        assertThat(unknown.get("type").asText()).isEqualTo("pypool.UnknownJavaFunction");
        assertThat(unknown.get("message").asText()).contains("no.such.fn").contains("fail");
    }

    @Test
    void functionsRunOnTheirExecutorNeverOnAReaderThread() throws Exception {
        Set<String> threads = ConcurrentHashMap.newKeySet();
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> new Thread(r, "my-callbacks"));
        try {
            PythonPool pool = pools.start(TestPools.builder().workers(1).javaFunctionExecutor(executor)
                    .javaFunction("where", args -> {
                        threads.add(Thread.currentThread().getName());
                        return "here";
                    }));
            for (int i = 0; i < 20; i++) {
                assertThat(pool.call("j.call", TestPools.javaCall("where", null), String.class)).isEqualTo("here");
            }
            assertThat(threads).containsExactly("my-callbacks");
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void aHandlerWaitingOnASlowFunctionDoesNotMakeTheWorkerLookHung() throws Exception {
        AtomicReference<PythonPool> self = new AtomicReference<>();
        AtomicReference<PoolHealth> worst = new AtomicReference<>();
        PythonPool pool = pools.start(TestPools.builder().workers(1).healthCheckInterval(Duration.ofMillis(100))
                .javaFunction("slowLookup", args -> {
                    // Many health checks pass while Python waits on this function.
                    await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(5)).until(() -> {
                        PoolHealth h = self.get().health();
                        if (h.status() != PoolHealth.Status.HEALTHY) {
                            worst.set(h);
                        }
                        return true;
                    });
                    return "found";
                }));
        self.set(pool);
        assertThat(pool.call("j.call", TestPools.javaCall("slowLookup", null), String.class)).isEqualTo("found");
        assertThat(worst.get()).as("an unhealthy report while Python waited on Java").isNull();
    }

    @Test
    void aCallbackMayCallAnotherWorker() throws Exception {
        AtomicReference<PythonPool> self = new AtomicReference<>();
        PythonPool pool = pools.start(TestPools.builder().workers(2)
                .javaFunction("otherPid", args -> self.get().call("j.pid", null, Long.class)));
        self.set(pool);
        for (int i = 0; i < 10; i++) {
            JsonNode both = pool.call("j.call", TestPools.javaCall("otherPid", null));
            assertThat(both.asLong()).isIn(TestPools.pids(pool));
        }
    }

    @Test
    void whenEveryWorkerWaitsOnCallbacksNestedCallsQueueAndTimeOut() throws Exception {
        AtomicReference<PythonPool> self = new AtomicReference<>();
        PythonPool pool = pools.start(TestPools.builder().workers(1)
                .javaFunction("nested", args -> {
                    try {
                        return self.get().call("j.pid", null, Long.class, CallOptions.timeout(Duration.ofMillis(300)));
                    } catch (CallTimeoutException e) {
                        return "nested call timed out: " + e.getMessage();
                    }
                }));
        self.set(pool);
        assertThat(pool.call("j.call", TestPools.javaCall("nested", null), String.class)).startsWith("nested call timed out")
                .contains("waiting for a worker");
    }

    @Test
    void nestedCallsInheritTheOuterDeadline() throws Exception {
        AtomicReference<PythonPool> self = new AtomicReference<>();
        AtomicReference<Throwable> nested = new AtomicReference<>();
        PythonPool pool = pools.start(TestPools.builder().workers(2)
                .javaFunction("slowNested", args -> {
                    try {
                        return self.get().call("c.ignores_cancel", Map.of("sleep_s", 0.8, "marker", "/dev/null"),
                                String.class, CallOptions.timeout(Duration.ofSeconds(60)));
                    } catch (Throwable t) {
                        nested.set(t);
                        throw t;
                    }
                }));
        self.set(pool);
        long start = System.nanoTime();
        assertThatThrownBy(() -> pool.call("j.call", TestPools.javaCall("slowNested", null), String.class,
                CallOptions.timeout(Duration.ofMillis(400)))).isInstanceOf(CallTimeoutException.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> nested.get() != null);
        assertThat(nested.get()).as("the nested call had only the outer call's time")
                .isInstanceOfAny(CallTimeoutException.class, InterruptedException.class);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
    }

    @Test
    void aFunctionThatOutlivesTheCallIsInterruptedAndTheWorkerStays() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        PythonPool pool = pools.start(TestPools.builder().workers(1)
                .javaFunction("sleepy", args -> {
                    started.countDown();
                    try {
                        Thread.sleep(30_000);
                    } catch (InterruptedException e) {
                        interrupted.set(true);
                        throw e;
                    }
                    return "woke";
                }));
        long pid = TestPools.pids(pool).get(0);
        assertThatThrownBy(() -> pool.call("j.call", TestPools.javaCall("sleepy", null), String.class,
                CallOptions.timeout(Duration.ofMillis(500)))).isInstanceOf(CallTimeoutException.class);
        assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(5)).untilTrue(interrupted);
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.stats().workers().get(0).inFlight() == 0);
        assertThat(TestPools.pids(pool)).containsExactly(pid);
        assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
    }

    @Test
    void aNestedCallIntoTheSameSessionFailsAtOnce() throws Exception {
        AtomicReference<PythonSession> session = new AtomicReference<>();
        PythonPool pool = pools.start(TestPools.builder().workers(2)
                .javaFunction("reenter", args -> {
                    try {
                        return session.get().call("s.session_total", null, Integer.class);
                    } catch (SessionReentryException e) {
                        return "refused: " + e.getMessage();
                    }
                }));
        try (PythonSession s = pool.newSession()) {
            session.set(s);
            String answer = s.call("j.call_in_session", TestPools.javaCall("reenter", null), String.class);
            assertThat(answer).startsWith("refused: ").contains("could only wait for itself");
            assertThat(s.call("s.session_total", null, Integer.class)).as("the session serves on").isZero();
        }
    }

    @Test
    void aWorkerKilledDuringACallbackFailsTheCallAndIsReplaced() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1)
                .javaFunction("killMyWorker", args -> {
                    ProcessHandle.of(args.get("pid").asLong()).ifPresent(ProcessHandle::destroyForcibly);
                    await().atMost(Duration.ofSeconds(10)).until(() -> !TestPools.alive(args.get("pid").asLong()));
                    return "killed";
                }));
        long pid = TestPools.pids(pool).get(0);
        assertThatThrownBy(() -> pool.call("j.call", TestPools.javaCall("killMyWorker", Map.of("pid", pid))))
                .isInstanceOf(WorkerCrashedException.class);
        await().atMost(Duration.ofSeconds(30)).until(() -> TestPools.allReady(pool, 1) && !TestPools.pids(pool).contains(pid));
        assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
    }

    @Test
    void aStreamMayCallBackForEachItem() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1)
                .javaFunction("square", args -> args.get("i").asInt() * args.get("i").asInt()));
        try (Stream<Integer> s = pool.stream("j.stream", Map.of("name", "square", "n", 50), Integer.class)) {
            assertThat(s.toList()).hasSize(50).startsWith(0, 1, 4, 9).endsWith(49 * 49);
        }
    }

    @Test
    void aWorkerKilledMidStreamDuringACallbackFailsTheStream() throws Exception {
        AtomicReference<PythonPool> self = new AtomicReference<>();
        PythonPool pool = pools.start(TestPools.builder().workers(1)
                .javaFunction("killAt", args -> {
                    if (args.get("i").asInt() == 3) {
                        long pid = TestPools.pids(self.get()).get(0);
                        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                        await().atMost(Duration.ofSeconds(10)).until(() -> !TestPools.alive(pid));
                    }
                    return args.get("i").asInt();
                }));
        self.set(pool);
        List<Integer> got = new java.util.ArrayList<>();
        try (Stream<Integer> s = pool.stream("j.stream", Map.of("name", "killAt", "n", 10), Integer.class)) {
            assertThatThrownBy(() -> s.forEach(got::add)).isInstanceOf(WorkerCrashedException.class);
        }
        assertThat(got).containsExactly(0, 1, 2);
    }
}
