package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import io.pypool.testkit.PypoolExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class SelfHealingTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path tmp;

    @Test
    void crashMidCallFailsTheCallAtOnceWithSignalAndLastStderrLines() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).callTimeout(Duration.ofSeconds(60)));
        long started = System.nanoTime();
        WorkerCrashedException e = catchThrowableOfType(WorkerCrashedException.class,
                () -> pool.call("t.crash_after_print", Map.of("line", "last words before the crash")));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("failed at once, not at the 60 s deadline")
                .isLessThan(Duration.ofSeconds(30));
        assertThat(e).hasMessageContaining("was killed by signal 9 (SIGKILL) while running it")
                .hasMessageContaining("last words before the crash");
        assertThat(e.exitCode()).hasValue(137);
        assertThat(e.lastStderrLines()).contains("last words before the crash");
        assertThat(e.getSuppressed()).as("the caller's own stack comes with it").singleElement()
                .satisfies(site -> assertThat(site.getStackTrace()).anySatisfy(frame ->
                        assertThat(frame.getMethodName()).contains("crashMidCallFailsTheCallAtOnce")));
        await().until(() -> TestPools.allReady(pool, 2));
        assertThat(pool.stats().restarts()).isEqualTo(1);
        assertThat(pool.call("add", Map.of("a", 1, "b", 2), Integer.class)).isEqualTo(3);
    }

    @Test
    void callsWaitingInTheQueueGoToOtherWorkersWhenOneCrashes() throws Exception {
        Path crashGate = tmp.resolve("crash");
        Path holdGate = tmp.resolve("hold");
        PythonPool pool = pools.start(TestPools.builder().workers(2));
        CompletableFuture<JsonNode> doomed = pool.callAsync("t.crash_when_file", Map.of("path", crashGate.toString()));
        CompletableFuture<JsonNode> held = pool.callAsync("t.wait_for_file", Map.of("path", holdGate.toString()));
        await().until(() -> pool.stats().busyWorkers() == 2);
        List<CompletableFuture<Integer>> waiting = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            waiting.add(pool.callAsync("add", Map.of("a", i, "b", 100), Integer.class));
        }
        assertThat(pool.stats().queuedCalls()).isEqualTo(5);
        Files.createFile(crashGate);
        assertThatThrownBy(doomed::join).hasCauseInstanceOf(WorkerCrashedException.class);
        for (int i = 0; i < 5; i++) {
            assertThat(waiting.get(i).get()).isEqualTo(i + 100);
        }
        Files.createFile(holdGate);
        held.get();
    }

    @Test
    void crashLoopGivesUpAndThePoolReportsItselfDegradedWithTheReason() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).minReadyWorkers(1).maxConsecutiveStartFailures(3)
                .environment("PYPOOL_FAULT_START_FAIL", "no licence for this worker")
                .environment("PYPOOL_FAULT_SPARE_WORKERS", "w1")
                .healthCheckInterval(Duration.ofMillis(100)));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            PoolHealth health = pool.health();
            assertThat(health.status()).isEqualTo(PoolHealth.Status.DEGRADED);
            assertThat(health.problems()).anySatisfy(p -> assertThat(p)
                    .contains("gave up on slot 1 after 3 failed starts in a row")
                    .contains("no licence for this worker"));
        });
        long restartsAtGiveUp = pool.stats().restarts();
        assertThat(pool.call("add", Map.of("a", 1, "b", 1), Integer.class)).as("the healthy worker serves").isEqualTo(2);
        assertThat(pool.stats().restarts()).as("no more restarts after giving up").isEqualTo(restartsAtGiveUp);
    }

    /**
     * The late reply must be able to come: the worker runs several calls at once, so it lives on
     * (retired, not yet killed) while the others finish, and the timed-out call's reply arrives
     * among theirs. It must reach nobody.
     */
    @Test
    void lateReplyAfterTimeoutNeverReachesAnotherCaller() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxInFlightPerWorker(4));
        CompletableFuture<JsonNode> late = pool.callAsync("fault.echo", Map.of("nonce", "late", "delay_ms", 500),
                JsonNode.class, CallOptions.timeout(Duration.ofMillis(150)));
        List<CompletableFuture<JsonNode>> others = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            others.add(pool.callAsync("fault.echo", Map.of("nonce", "other-" + i, "delay_ms", 1000)));
        }
        assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(CallTimeoutException.class);
        for (int i = 0; i < 3; i++) {
            assertThat(others.get(i).get(10, TimeUnit.SECONDS).get("nonce").asText()).isEqualTo("other-" + i);
        }
        for (int i = 0; i < 10; i++) {
            assertThat(pool.call("fault.echo", Map.of("nonce", "next-" + i)).get("nonce").asText()).isEqualTo("next-" + i);
        }
    }

    @Test
    void stoppedIdleWorkerIsFoundWithinOneHealthIntervalAndReplaced() throws Exception {
        TestPools.assumeLocal("a stopped worker is seen in /proc; on Ray only its deadline or a ping's finds it");
        PythonPool pool = pools.start(TestPools.builder().workers(2).healthCheckInterval(Duration.ofMillis(200)));
        assertThat(pool.health().status()).isEqualTo(PoolHealth.Status.HEALTHY);
        long pid = TestPools.pids(pool).get(0);
        TestPools.signal(pid, "STOP");
        // Within one interval it is failed; the replacement may be ready before anyone looks,
        // so the incident log is where it shows for sure.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(pool.health().recentIncidents())
                .anySatisfy(p -> assertThat(p).contains("worker w1 (pid " + pid + ") was ended by the pool (it was found stopped")));
        await().atMost(Duration.ofSeconds(10)).until(() -> !TestPools.alive(pid));
        await().atMost(Duration.ofSeconds(30)).until(() -> pool.health().isHealthy());
        assertThat(TestPools.pids(pool)).doesNotContain(pid);
    }

    @Test
    void workerStoppedMidCallFailsItsCallBeforeTheDeadline() throws Exception {
        TestPools.assumeLocal("a stopped worker is seen in /proc; on Ray only its deadline or a ping's finds it");
        PythonPool pool = pools.start(TestPools.builder().workers(1).healthCheckInterval(Duration.ofMillis(200))
                .callTimeout(Duration.ofSeconds(60)));
        long started = System.nanoTime();
        assertThatThrownBy(() -> pool.call("fault.stop", null))
                .isInstanceOf(WorkerCrashedException.class)
                .hasMessageContaining("was found stopped");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
        assertThat(pool.call("add", Map.of("a", 2, "b", 2), Integer.class)).isEqualTo(4);
    }

    @Test
    void deadWorkerShowsInHealthUntilItsReplacementIsReady() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).healthCheckInterval(Duration.ofMillis(200))
                .environment("PYPOOL_FAULT_START_DELAY_S", "1").environment("PYPOOL_FAULT_SPARE_WORKERS", "w1,w2")
                );
        long pid = TestPools.pids(pool).get(1);
        TestPools.signal(pid, "KILL");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            PoolHealth health = pool.health();
            assertThat(health.status()).isEqualTo(PoolHealth.Status.DEGRADED);
            assertThat(health.problems()).anySatisfy(p -> assertThat(p)
                    .contains("replaces w2, which was killed by signal 9 (SIGKILL)"));
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> pool.health().isHealthy());
    }

    @Test
    void idempotentCallIsRetriedOnceOnAnotherWorkerAndOthersAreNot() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2));
        Path marker = tmp.resolve("crashed-once");
        long pid = pool.call("t.crash_once", Map.of("marker", marker.toString()), Long.class, CallOptions.idempotent());
        assertThat(Files.exists(marker)).as("the first attempt did crash").isTrue();
        assertThat(TestPools.alive(pid)).isTrue();

        Path marker2 = tmp.resolve("crashed-once-2");
        assertThatThrownBy(() -> pool.call("t.crash_once", Map.of("marker", marker2.toString()), Long.class))
                .isInstanceOf(WorkerCrashedException.class);
    }

    @Test
    void recyclingAfterNCallsReplacesWorkersWithoutFailingACall() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).recycleAfterCalls(10)
                .healthCheckInterval(Duration.ofMillis(50)));
        Set<Long> pids = new HashSet<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (pool.stats().restarts() < 4 && System.nanoTime() < deadline) {
            List<CompletableFuture<JsonNode>> batch = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                batch.add(pool.callAsync("fault.echo", Map.of("nonce", "n" + i)));
            }
            for (int i = 0; i < 8; i++) {
                JsonNode reply = batch.get(i).get();
                assertThat(reply.get("nonce").asText()).isEqualTo("n" + i);
                pids.add(reply.get("pid").asLong());
            }
        }
        assertThat(pool.stats().restarts()).isGreaterThanOrEqualTo(4);
        assertThat(pids).hasSizeGreaterThan(2);
    }

    @Test
    void recyclingByMemoryReplacesTheWorkerThatGrew() throws Exception {
        TestPools.assumeLocal("a worker's memory is read from /proc");
        PythonPool pool = pools.start(TestPools.builder().workers(1).recycleAboveRssBytes(150L << 20)
                .healthCheckInterval(Duration.ofMillis(100)));
        long pid = TestPools.pids(pool).get(0);
        pool.call("fault.rss", Map.of("megabytes", 200));
        await().atMost(Duration.ofSeconds(30)).until(() -> !TestPools.alive(pid));
        assertThat(pool.call("t.pid", null, Long.class)).isNotEqualTo(pid);
    }

    @Test
    void recyclingByAgeSpreadsReplacementsAndFailsNoCall() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).recycleAfterAge(Duration.ofMillis(500))
                .healthCheckInterval(Duration.ofMillis(50)));
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (pool.stats().restarts() < 4) {
            assertThat(System.nanoTime()).as("4 recyclings within 60 s").isLessThan(end);
            assertThat(pool.call("add", Map.of("a", 1, "b", 1), Integer.class)).isEqualTo(2);
        }
        // Spread: each worker's age limit is its own (500 ms +-5 %, fixed by its id), so workers
        // started together do not all go together.
        java.util.Set<String> limits = new java.util.HashSet<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("maximum age of (\\d+) ms")
                .matcher(String.join("\n", pool.health().recentIncidents()));
        while (m.find()) {
            limits.add(m.group(1));
        }
        assertThat(limits).as("distinct age limits among recycled workers").hasSizeGreaterThan(1);
    }

    @Test
    void sessionOnALostWorkerFailsWithSessionLostNamingSessionAndWorker() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2));
        try (PythonSession session = pool.session("fragile")) {
            long pid = session.call("t.remember", Map.of("key", "k", "value", 1)).get("pid").asLong();
            TestPools.signal(pid, "KILL");
            await().until(() -> !TestPools.alive(pid));
            await().untilAsserted(() -> assertThatThrownBy(() -> session.call("t.recall", Map.of("key", "k")))
                    .isInstanceOf(SessionLostException.class)
                    .hasMessageContaining("session 'fragile'")
                    .hasMessageContaining("its worker w"));
        }
    }

    @Test
    void sessionWithARestoreStepComesBackOnANewWorker() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2));
        try (PythonSession session = pool.session("sturdy")
                     .onRestore("t.remember", Map.of("key", "restored", "value", true))) {
            long pid = session.call("t.remember", Map.of("key", "k", "value", 1)).get("pid").asLong();
            TestPools.signal(pid, "KILL");
            // Until the pool has seen the death, a call may still be sent to the dead worker and fail with it.
            await().until(() -> !TestPools.pids(pool).contains(pid));
            JsonNode after = session.call("t.recall", Map.of("key", "restored"));
            assertThat(after.get("value").asBoolean()).isTrue();
            assertThat(after.get("pid").asLong()).isNotEqualTo(pid);
            assertThat(session.call("t.recall", Map.of("key", "restored")).get("pid").asLong())
                    .isEqualTo(after.get("pid").asLong());
        }
    }

    @Test
    void slowStarterIsEndedAndRetriedWhileThePoolServesWithReadyWorkers() throws Exception {
        TestPools.assumeLocal("placing an actor takes longer than its 2 s startup timeout");
        PythonPool pool = pools.start(TestPools.builder().workers(2).minReadyWorkers(1)
                .environment("PYPOOL_FAULT_START_DELAY_S", "120").environment("PYPOOL_FAULT_WORKERS", "w2")
                .startupTimeout(Duration.ofSeconds(2)));
        assertThat(pool.call("add", Map.of("a", 1, "b", 1), Integer.class)).isEqualTo(2);
        await().atMost(Duration.ofSeconds(30)).until(() -> TestPools.allReady(pool, 2));
        assertThat(pool.stats().workers()).extracting(PoolStats.Worker::id).doesNotContain("w2");
        assertThat(pool.stats().restarts()).isEqualTo(1);
    }

    @Test
    void numericLibraryThreadsAreCappedByDefaultAndOverridable() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        assertThat(pool.call("t.env", Map.of("name", "OMP_NUM_THREADS"), String.class)).isEqualTo("1");
        assertThat(pool.call("t.env", Map.of("name", "OPENBLAS_NUM_THREADS"), String.class)).isEqualTo("1");
        PythonPool overridden = pools.start(TestPools.builder().workers(1).environment("OMP_NUM_THREADS", "4"));
        assertThat(overridden.call("t.env", Map.of("name", "OMP_NUM_THREADS"), String.class)).isEqualTo("4");
    }
}
