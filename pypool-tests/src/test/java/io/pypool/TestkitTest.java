package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.pypool.testkit.ManualClock;
import io.pypool.testkit.PypoolExtension;
import io.pypool.testkit.WorkerFaults;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/** pypool-testkit, tested on real workers: the extension, fault injection from Java, the manual clock. */
class TestkitTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    // ---- the extension, run through JUnit's own engine test kit -------------------------------------

    static final Set<String> RUN_IDS_SEEN = ConcurrentHashMap.newKeySet();

    /** Not run by itself (its name is not *Test): EngineTestKit runs it below. */
    static class SampleUsingPerTestPools {
        @RegisterExtension
        final PypoolExtension pools = PypoolExtension.perTest(() -> TestPools.builder().workers(1));

        @Test
        void first(PythonPool pool) throws Exception {
            assertThat(TestPools.allReady(pool, 1)).as("ready before the body runs").isTrue();
            RUN_IDS_SEEN.add(pool.stats().runId());
            assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
        }

        @Test
        void second() throws Exception {
            RUN_IDS_SEEN.add(pools.pool().stats().runId());
            assertThat(pools.pool().call("add", List.of(2, 2), Integer.class)).isEqualTo(4);
        }
    }

    static final Set<String> CLASS_RUN_IDS = ConcurrentHashMap.newKeySet();

    static class SampleUsingOnePoolPerClass {
        @RegisterExtension
        static final PypoolExtension POOLS = PypoolExtension.perClass(() -> TestPools.builder().workers(1));

        @Test
        void first(PythonPool pool) {
            CLASS_RUN_IDS.add(pool.stats().runId());
        }

        @Test
        void second(PythonPool pool) {
            CLASS_RUN_IDS.add(pool.stats().runId());
        }
    }

    static class SampleThatLeaksAProcess {
        @RegisterExtension
        final PypoolExtension pools = PypoolExtension.perTest(() -> TestPools.builder().workers(1));

        @Test
        void leaves(PythonPool pool) throws Exception {
            // Something that poses as one of the pool's workers and will outlive its close().
            new ProcessBuilder(PythonRuntime.resolve("python3").executable(), "-c", "import time; time.sleep(60)",
                    "--run-id", pool.stats().runId()).start();
        }
    }

    @Test
    void extensionGivesEachTestItsOwnReadyPoolAndClosesItWithNothingLeft() {
        RUN_IDS_SEEN.clear();
        Events tests = EngineTestKit.engine("junit-jupiter").selectors(selectClass(SampleUsingPerTestPools.class))
                .execute().testEvents();
        tests.assertStatistics(s -> s.started(2).succeeded(2).failed(0));
        assertThat(RUN_IDS_SEEN).as("one pool per test").hasSize(2);
        for (String runId : RUN_IDS_SEEN) {
            assertThat(ProcessHandle.allProcesses().filter(p -> p.info().arguments()
                    .map(a -> List.of(a).contains(runId)).orElse(false))).as("processes of run %s", runId).isEmpty();
        }
    }

    @Test
    void perClassExtensionSharesOnePoolAcrossTheClassAndClosesItAfter() {
        CLASS_RUN_IDS.clear();
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(SampleUsingOnePoolPerClass.class))
                .execute().testEvents().assertStatistics(s -> s.started(2).succeeded(2));
        assertThat(CLASS_RUN_IDS).hasSize(1);
        String runId = CLASS_RUN_IDS.iterator().next();
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().arguments()
                .map(a -> List.of(a).contains(runId)).orElse(false))).isEmpty();
    }

    @Test
    void extensionFailsATestWhosePoolLeavesAProcessBehind() {
        Events tests = EngineTestKit.engine("junit-jupiter").selectors(selectClass(SampleThatLeaksAProcess.class))
                .execute().testEvents();
        tests.assertStatistics(s -> s.started(1).failed(1));
        assertThat(tests.failed().stream().findFirst().orElseThrow().getPayload(
                org.junit.platform.engine.TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow())
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Python processes outlived their pool's close()");
    }

    // ---- fault injection chosen from Java ------------------------------------------------------------

    @Test
    void crashOnTheNthCall() throws Exception {
        PythonPool pool = pools.start(WorkerFaults.everyWorker().crashOnCall(2).applyTo(TestPools.builder().workers(1)));
        assertThat(pool.call("add", List.of(1, 1), Integer.class)).isEqualTo(2);
        assertThatThrownBy(() -> pool.call("add", List.of(1, 1))).isInstanceOf(WorkerCrashedException.class);
        assertThat(pool.call("add", List.of(2, 2), Integer.class)).as("the replacement's first call").isEqualTo(4);
    }

    @Test
    void failToStart() {
        assertThatThrownBy(() -> pools.start(WorkerFaults.everyWorker().failToStart("no GPU here")
                .applyTo(TestPools.builder().workers(1))))
                .isInstanceOf(PoolStartupException.class).hasMessageContaining("no GPU here");
    }

    @Test
    void startSlowlyOnOneWorkerWhileTheOtherServes() throws Exception {
        PythonPool pool = pools.start(WorkerFaults.onWorkers("w2").startSlowly(Duration.ofSeconds(60))
                .applyTo(TestPools.builder().workers(2).minReadyWorkers(1)));
        assertThat(pool.call("add", List.of(1, 1), Integer.class)).isEqualTo(2);
        assertThat(pool.stats().workers()).extracting(PoolStats.Worker::state).containsExactly("READY", "STARTING");
    }

    @Test
    void hangOnACommand() throws Exception {
        PythonPool pool = pools.start(WorkerFaults.everyWorker().hangOn("echo").applyTo(TestPools.builder().workers(1)));
        assertThatThrownBy(() -> pool.call("echo", Map.of("value", 1), Integer.class, CallOptions.timeout(Duration.ofMillis(300))))
                .isInstanceOf(CallTimeoutException.class).hasMessageContaining("running on worker");
    }

    @Test
    void replyAfterADelay() throws Exception {
        PythonPool pool = pools.start(WorkerFaults.everyWorker().replyAfter(Duration.ofSeconds(30))
                .applyTo(TestPools.builder().workers(1)));
        assertThatThrownBy(() -> pool.call("add", List.of(1, 1), Integer.class, CallOptions.timeout(Duration.ofMillis(300))))
                .isInstanceOf(CallTimeoutException.class);
    }

    @Test
    void writeGarbageOnACommand() throws Exception {
        PythonPool pool = pools.start(WorkerFaults.everyWorker().writeGarbageOn("add").applyTo(TestPools.builder().workers(1)));
        assertThatThrownBy(() -> pool.call("add", List.of(1, 1))).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("malformed frame").hasMessageContaining("'garbage from a f");
    }

    @Test
    void printToStdoutReachesTheLogNotTheProtocol() throws Exception {
        PythonPool pool = pools.start(WorkerFaults.everyWorker().printToStdout("chatty handler says hi")
                .applyTo(TestPools.builder().name("chatty").workers(1)));
        try (LogCapture log = new LogCapture("chatty")) {
            assertThat(pool.call("add", List.of(1, 1), Integer.class)).isEqualTo(2);
            await().untilAsserted(() -> assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("chatty handler says hi")));
        }
    }

    // ---- time-driven behaviour on a manual clock: no test sleeps for the time itself -------------------

    @Test
    void sessionIdleTtlOnAManualClock() throws Exception {
        ManualClock clock = new ManualClock();
        PythonPool pool = pools.start(TestPools.builder().workers(1).clock(clock).sessionIdleTtl(Duration.ofHours(1)));
        PythonSession session = pool.session("idle");
        session.call("counter.add", Map.of("by", 1));
        clock.advance(Duration.ofMinutes(59));
        assertThat(session.call("counter.get", null).get("total").asInt()).isEqualTo(1);
        clock.advance(Duration.ofMinutes(61));
        await().until(() -> pool.stats().sessions() == 0);
        assertThatThrownBy(() -> session.call("counter.get", null)).isInstanceOf(SessionLostException.class)
                .hasMessageContaining("expired after being idle for 3600000 ms");
    }

    @Test
    void healthIntervalOnAManualClock() throws Exception {
        ManualClock clock = new ManualClock();
        PythonPool pool = pools.start(TestPools.builder().workers(1).clock(clock).healthCheckInterval(Duration.ofHours(1)));
        long pid = TestPools.pids(pool).get(0);
        TestPools.signal(pid, "STOP");
        // The stop reaches every thread of the worker a moment after kill(1) returns; the one
        // health check this clock allows must see it stopped, not still on its way there.
        await().until(() -> {
            ProcFs.Sample sample = ProcFs.sample(pid);
            return sample != null && sample.stopped();
        });
        clock.advance(Duration.ofHours(1));
        await().untilAsserted(() -> assertThat(pool.health().recentIncidents())
                .anySatisfy(i -> assertThat(i).contains("was found stopped")));
        assertThat(pool.call("add", List.of(1, 1), Integer.class)).isEqualTo(2);
    }

   @Test
    void busyWorkerWithoutProgressShowsInHealth() throws Exception {
        ManualClock clock = new ManualClock();
        PythonPool pool = pools.start(TestPools.builder().workers(1).clock(clock).healthCheckInterval(Duration.ofSeconds(10))
                .closeGracePeriod(Duration.ZERO));
        var sleeping = pool.callAsync("sleep", Map.of("ms", 60_000));
        await().until(() -> pool.stats().busyWorkers() == 1);
        // A sleeping handler uses no CPU and finishes nothing: after two intervals that shows.
        await().untilAsserted(() -> {
            clock.advance(Duration.ofSeconds(10));
            assertThat(pool.health().status()).isEqualTo(PoolHealth.Status.DEGRADED);
            assertThat(pool.health().problems()).anySatisfy(p -> assertThat(p).contains("without progress"));
        });
        sleeping.cancel(true);
    }

    @Test
    void idleWorkersArePingedEveryHealthInterval() throws Exception {
        ManualClock clock = new ManualClock();
        PythonPool pool = pools.start(TestPools.builder().workers(2).clock(clock).healthCheckInterval(Duration.ofMinutes(1)));
        assertThat(pool.stats().workers()).extracting(PoolStats.Worker::callsServed).containsOnly(0L);
        clock.advance(Duration.ofMinutes(1));
        await().until(() -> pool.stats().workers().stream().allMatch(w -> w.callsServed() == 1));
        clock.advance(Duration.ofMinutes(1));
        await().until(() -> pool.stats().workers().stream().allMatch(w -> w.callsServed() == 2));
    }

    @Test
    void recyclingByAgeOnAManualClock() throws Exception {
        ManualClock clock = new ManualClock();
        PythonPool pool = pools.start(TestPools.builder().workers(2).clock(clock)
                .healthCheckInterval(Duration.ofMinutes(1)).recycleAfterAge(Duration.ofHours(1)));
        List<Long> first = TestPools.pids(pool);
        clock.advance(Duration.ofMinutes(50));
        assertThat(pool.stats().restarts()).isZero();
        clock.advance(Duration.ofMinutes(20));
        await().until(() -> pool.stats().restarts() == 2 && TestPools.allReady(pool, 2));
        assertThat(TestPools.pids(pool)).doesNotContainAnyElementsOf(first);
        assertThat(pool.health().recentIncidents()).anySatisfy(i -> assertThat(i).contains("recycled"));
    }
}
