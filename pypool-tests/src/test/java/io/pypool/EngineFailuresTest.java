package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.testkit.ManualClock;
import io.pypool.testkit.PypoolExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The failures seen from outside the old engine, one test each, on real workers. */
class EngineFailuresTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @Test
    void largeFramesPipelineWithoutDeadlock() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxInFlightPerWorker(4).handlerThreads(1)
                .callTimeout(Duration.ofSeconds(60)));
        String payload = "p".repeat(300_000);
        ExecutorService submitters = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<CompletableFuture<String>>>> batches = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                batches.add(submitters.submit(() -> {
                    List<CompletableFuture<String>> calls = new ArrayList<>();
                    for (int i = 0; i < 10; i++) {
                        calls.add(pool.callAsync("echo", Map.of("value", thread + ":" + i + ":" + payload), String.class));
                    }
                    return calls;
                }));
            }
            for (int t = 0; t < 4; t++) {
                List<CompletableFuture<String>> calls = batches.get(t).get(30, TimeUnit.SECONDS);
                for (int i = 0; i < 10; i++) {
                    assertThat(calls.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(t + ":" + i + ":" + payload);
                }
            }
        } finally {
            submitters.shutdownNow();
        }
        assertThat(pool.stats().restarts()).isZero();
    }

    @Test
    void oneSessionsCallsNeverInterleave() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).maxInFlightPerWorker(8));
        PythonSession session = pool.session("shared-counter");
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> callers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                callers.add(threads.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        session.call("t.session_rmw", Map.of("pause_ms", 2), Integer.class);
                    }
                    return null;
                }));
            }
            for (Future<?> caller : callers) {
                caller.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(session.call("t.session_rmw", Map.of("pause_ms", 0), Integer.class)).isEqualTo(401);
    }

    @Test
    void ordinaryDataNeverEndsAWorker() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxInFlightPerWorker(4)
                .callTimeout(Duration.ofSeconds(30)));
        long pid = TestPools.pids(pool).get(0);
        assertThatThrownBy(() -> pool.call("t.raise_surrogate", null))
                .isInstanceOfSatisfying(PythonException.class, e -> assertThat(e.pythonType()).isEqualTo("ValueError"));
        assertThat(pool.call("t.surrogate_result", null, String.class)).isEqualTo("x\ud800y");
        // JSON nested 990 deep, both ways, and past the shared limit of 1000: a typed error, the worker lives.
        JsonNode deep = pool.call("t.deep", Map.of("depth", 990));
        assertThat(pool.call("t.deep", Map.of("depth", 0, "value", deep), Integer.class)).isEqualTo(990);
        assertThatThrownBy(() -> pool.call("t.deep", Map.of("depth", 1200)))
                .isInstanceOfAny(PythonException.class, ResultMappingException.class)
                .hasMessageContaining("1000");
        // A 25 MB string result: within maxFrameBytes (64 MiB), so it must arrive.
        assertThat(pool.call("t.big_string", Map.of("chars", 25_000_000), String.class)).hasSize(25_000_000);
        assertThat(TestPools.pids(pool)).containsExactly(pid);
        assertThat(pool.stats().restarts()).isZero();
    }

    @Test
    void workerSeenDeadWhileAForkedChildHoldsItsPipes() throws Exception {
        for (boolean libc : new boolean[] {false, true}) {
            PythonPool pool = pools.start(TestPools.builder().workers(1).maxInFlightPerWorker(2)
                    .callTimeout(Duration.ofSeconds(120)));
            long pid = TestPools.pids(pool).get(0);
            long child = pool.call("t.fork_child", Map.of("libc", libc), Long.class);
            assertThat(TestPools.alive(child)).isTrue();
            CompletableFuture<JsonNode> running = pool.callAsync("t.echo", Map.of("nonce", "n", "work_ms", 100_000));
            TestPools.signal(pid, "KILL");
            assertThatThrownBy(() -> running.get(10, TimeUnit.SECONDS))
                    .as("fork via %s", libc ? "libc" : "os.fork")
                    .hasCauseInstanceOf(WorkerCrashedException.class)
                    .hasMessageContaining("killed by signal 9");
            await().atMost(Duration.ofSeconds(5)).until(() -> !TestPools.alive(child));
            await().atMost(Duration.ofSeconds(30)).until(() -> TestPools.allReady(pool, 1));
            assertThat(TestPools.pids(pool)).doesNotContain(pid);
            pool.close();
        }
    }

    @Test
    void closeLeavesNoHandlerSubprocess() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxInFlightPerWorker(2));
        List<Long> children = new ArrayList<>();
        children.add(pool.call("t.spawn_child", null, Long.class));
        children.add(pool.call("t.fork_child", Map.of("libc", false), Long.class));
        children.add(pool.call("t.fork_child", Map.of("libc", true), Long.class));
        assertThat(children).allSatisfy(pid -> assertThat(TestPools.alive(pid)).isTrue());
        pool.close();
        await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> TestPools.assertNoneAlive(children));
    }

    @Test
    void closingManySessionsDropsNoNotice() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).maxQueuedCalls(10));
        List<PythonSession> sessions = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            PythonSession s = pool.session("s" + i);
            s.call("counter.add", Map.of("by", 1));
            sessions.add(s);
        }
        sessions.forEach(PythonSession::close);
        for (int i = 0; i < 20; i++) {
            assertThat(pool.call("add", Map.of("a", i, "b", 1), Integer.class)).isEqualTo(i + 1); // never saturated
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> sessionsInPython(pool) == 0);
    }

    /** Sessions alive in Python on both workers: two probe sessions, pinned one per worker, ask them. */
    private static int sessionsInPython(PythonPool pool) throws InterruptedException {
        try (PythonSession a = pool.newSession(); PythonSession b = pool.newSession()) {
            JsonNode first = a.call("stats", null);
            JsonNode second = b.call("stats", null);
            assertThat(first.get("pid")).isNotEqualTo(second.get("pid"));
            return first.get("sessions").asInt() + second.get("sessions").asInt();
        }
    }

    @Test
    void aCallThatTimedOutInAWorkersInputDoesNotGetThatWorkerRetired() throws Exception {
        // The pool's clock stands, so the busy worker always counts as moving and is sent the
        // second call however slowly this thread runs (else it would wait in the pool's queue).
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxInFlightPerWorker(2).handlerThreads(1)
                .clock(new ManualClock()));
        long pid = TestPools.pids(pool).get(0);
        // The slow call holds the worker's one handler thread well past the other call's deadline,
        // so the other call surely waits in the worker's input.
        CompletableFuture<Double> slow = pool.callAsync("sleep", Map.of("ms", 2500), Double.class);
        assertThatThrownBy(() -> pool.call("add", Map.of("a", 1, "b", 1), Integer.class, CallOptions.timeout(Duration.ofMillis(500))))
                .isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                    assertThat(e.whileExecuting()).isFalse();
                    assertThat(e).hasMessageContaining("sent to worker");
                });
        assertThat(slow.get(10, TimeUnit.SECONDS)).isEqualTo(2500.0);
        assertThat(pool.call("add", Map.of("a", 2, "b", 2), Integer.class)).isEqualTo(4);
        assertThat(TestPools.pids(pool)).containsExactly(pid);
        assertThat(pool.stats().restarts()).isZero();
    }

    @Test
    void aHungCallBehindAnAsyncOneIsSeenRunningAndItsWorkerReplaced() throws Exception {
        // An async call holds no handler thread: the sync call after it is the one running, and
        // hanging, and must be judged so (not taken for one still waiting in the worker's input).
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxInFlightPerWorker(8).handlerThreads(1));
        long pid = TestPools.pids(pool).get(0);
        CompletableFuture<Double> waiting = pool.callAsync("t.async_sleep", Map.of("ms", 3_000), Double.class,
                CallOptions.timeout(Duration.ofSeconds(30)));
        assertThatThrownBy(() -> pool.call("sleep", Map.of("ms", 600_000), Double.class,
                CallOptions.timeout(Duration.ofMillis(500))))
                .isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                    assertThat(e.whileExecuting()).isTrue();
                    assertThat(e).hasMessageContaining("running on worker");
                });
        await().atMost(Duration.ofSeconds(10)).until(() -> !TestPools.pids(pool).contains(pid) && TestPools.allReady(pool, 1));
        assertThat(pool.call("add", Map.of("a", 1, "b", 2), Integer.class)).isEqualTo(3);
        // The retired worker lets the async call, still within its deadline, finish before it is ended.
        assertThat(waiting.get(15, TimeUnit.SECONDS)).isEqualTo(3000.0);
        await().atMost(Duration.ofSeconds(10)).until(() -> !TestPools.alive(pid));
    }

    @Test
    void workingDirectoryDoesNotShadowTheRuntime(@TempDir Path cwd) throws Exception {
        Files.createDirectories(cwd.resolve("pypool"));
        Files.writeString(cwd.resolve("pypool/__init__.py"), "raise ImportError('the working directory shadowed pypool')\n");
        Files.writeString(cwd.resolve("json.py"), "raise ImportError('the working directory shadowed json')\n");
        PythonPool pool = pools.start(TestPools.builder().workers(1).workingDirectory(cwd));
        assertThat(pool.call("add", Map.of("a", 20, "b", 22), Integer.class)).isEqualTo(42);
    }

    @Test
    void messagesSayWhoEndedAWorker() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).healthCheckInterval(Duration.ofMillis(200)));
        // Killed from outside: the signal is named, and a session on it is lost for that reason.
        PythonSession session = pool.newSession();
        long pid = session.call("t.remember", Map.of("key", "k", "value", 1)).get("pid").asLong();
        TestPools.signal(pid, "KILL");
        await().atMost(Duration.ofSeconds(10)).until(() -> !TestPools.pids(pool).contains(pid));
        assertThatThrownBy(() -> session.call("t.recall", Map.of("key", "k")))
                .isInstanceOf(SessionLostException.class)
                .hasMessageContaining("killed by signal 9")
                .hasMessageNotContaining("taken out of service");
        await().atMost(Duration.ofSeconds(30)).until(() -> TestPools.allReady(pool, 1));
        // Ended by the pool itself (found stopped by the health check): the pool says so, not "signal 9".
        assertThatThrownBy(() -> pool.call("fault.stop", null))
                .isInstanceOf(WorkerCrashedException.class)
                .hasMessageContaining("was ended by the pool (it was found stopped")
                .hasMessageNotContaining("signal 9");
    }
}
