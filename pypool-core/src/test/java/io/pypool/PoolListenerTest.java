package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What a {@link PoolListener} is told, on in-JVM fake workers, and that a failing one changes nothing. */
class PoolListenerTest {
    private final List<PoolEngine> pools = new ArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void closeAll() {
        release.countDown();
        pools.forEach(PoolEngine::close);
    }

    /** "block" holds until release, "die" kills its worker, "fail" raises, anything else answers its name. */
    private final FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> switch (cmd) {
        case "block" -> {
            release.await();
            yield cmd;
        }
        case "die" -> FakeLauncher.DIE;
        case "fail" -> throw new IllegalStateException("refused");
        default -> cmd;
    });

    private PoolEngine pool(UnaryOperator<PythonPoolBuilder> config) {
        PythonPoolBuilder builder = PythonPool.builder().name("listened").workers(1).reapOrphans(false)
                .callTimeout(Duration.ofSeconds(10));
        PoolEngine pool = PoolEngine.start(config.apply(builder).settings(), p -> launcher);
        pools.add(pool);
        return pool;
    }

    /** Writes down every event as one line. */
    static final class Recording implements PoolListener {
        final List<String> events = new CopyOnWriteArrayList<>();
        final Map<String, Long> queued = new ConcurrentHashMap<>();

        @Override
        public void callStarted(String command) {
            events.add("start " + command);
        }

        @Override
        public void callEnded(String command, CallOutcome outcome, long durationNanos, long queuedNanos) {
            assertThat(durationNanos).isPositive();
            assertThat(queuedNanos).isBetween(0L, durationNanos);
            queued.put(command, queuedNanos);
            events.add("end " + command + " " + outcome);
        }

        @Override
        public void workerReady(String workerId, long startNanos) {
            events.add("ready " + workerId);
        }

        @Override
        public void workerCrashed(String workerId, String cause) {
            events.add("crashed " + workerId);
        }

        @Override
        public void workerReplaced(String oldWorkerId, String newWorkerId, String reason) {
            events.add("replaced " + oldWorkerId + " by " + newWorkerId);
        }

        @Override
        public void workerRecycled(String workerId, String reason) {
            events.add("recycled " + workerId);
        }
    }

    @Test
    void aListenerSeesEachCallStartAndEndWithItsOutcome() throws Exception {
        Recording rec = new Recording();
        PoolEngine pool = pool(b -> b.listener(rec));
        assertThat(rec.events).containsExactly("ready w1");

        assertThat(pool.call("ok", null, String.class)).isEqualTo("ok");
        assertThatThrownBy(() -> pool.call("fail", null)).isInstanceOf(PythonException.class);
        assertThatThrownBy(() -> pool.call("block", null, String.class, CallOptions.timeout(Duration.ofMillis(100))))
                .isInstanceOf(CallTimeoutException.class);
        await().until(() -> rec.events.contains("ready w2")); // the overrunning worker was replaced
        release.countDown();

        assertThatThrownBy(() -> pool.call("die", null)).isInstanceOf(WorkerCrashedException.class);
        await().until(() -> rec.events.contains("end die CRASHED") && rec.events.contains("crashed w2"));

        // A call's end is reported by the thread that completed it, which may be after its caller moved on.
        await().until(() -> rec.events.containsAll(List.of("end ok SUCCESS", "end fail PYTHON_ERROR")));
        assertThat(rec.events).containsSubsequence("start ok", "end ok SUCCESS");
        assertThat(rec.events).containsSubsequence("start fail", "end fail PYTHON_ERROR");
        assertThat(rec.events).containsSubsequence("start block", "end block TIMEOUT", "replaced w1 by w2", "start die");
    }

    @Test
    void aCallTurnedAwayByAFullQueueEndsSaturatedAndOneThatWaitedReportsItsWait() throws Exception {
        Recording rec = new Recording();
        PoolEngine pool = pool(b -> b.listener(rec).maxInFlightPerWorker(1).maxQueuedCalls(1));
        CompletableFuture<String> running = pool.callAsync("block", null, String.class);
        await().until(() -> launcher.received("block") == 1);
        CompletableFuture<String> waiting = pool.callAsync("queued", null, String.class);
        long queuedBy = System.nanoTime();
        assertThatThrownBy(() -> pool.callAsync("turnedAway", null, String.class).get(5, TimeUnit.SECONDS))
                .hasCauseInstanceOf(PoolSaturatedException.class);
        assertThat(rec.events).contains("end turnedAway SATURATED");
        long releasedAt = System.nanoTime();
        release.countDown(); // "queued" has waited at least since queuedBy
        running.get(5, TimeUnit.SECONDS);
        waiting.get(5, TimeUnit.SECONDS);
        await().until(() -> rec.events.contains("end queued SUCCESS"));
        assertThat(rec.queued.get("queued")).isGreaterThanOrEqualTo(releasedAt - queuedBy);
    }

    @Test
    void aCrashIsReportedWithTheReplacementThatFollows() throws Exception {
        Recording rec = new Recording();
        PoolEngine pool = pool(b -> b.listener(rec));
        assertThatThrownBy(() -> pool.call("die", null)).isInstanceOf(WorkerCrashedException.class);
        await().until(() -> rec.events.contains("ready w2"));
        assertThat(rec.events).containsSubsequence("ready w1", "start die", "crashed w1", "replaced w1 by w2", "ready w2");
        await().until(() -> rec.events.contains("end die CRASHED"));
    }

    @Test
    void recyclingIsReported() throws Exception {
        Recording rec = new Recording();
        PoolEngine pool = pool(b -> b.listener(rec).recycleAfterCalls(2).healthCheckInterval(Duration.ofMillis(50)));
        pool.call("a", null);
        pool.call("b", null);
        await().until(() -> rec.events.contains("ready w2"));
        assertThat(rec.events).containsSubsequence("recycled w1", "replaced w1 by w2", "ready w2");
    }

    @Test
    void aListenerThatThrowsChangesNothing() throws Exception {
        PoolListener broken = new PoolListener() {
            @Override
            public void callStarted(String command) {
                throw new IllegalStateException("broken listener");
            }

            @Override
            public void callEnded(String command, CallOutcome outcome, long durationNanos, long queuedNanos) {
                throw new IllegalStateException("broken listener");
            }

            @Override
            public void workerReady(String workerId, long startNanos) {
                throw new IllegalStateException("broken listener");
            }
        };
        Recording after = new Recording();
        PoolEngine pool = pool(b -> b.listener(broken).listener(after));
        for (int i = 0; i < 3; i++) {
            assertThat(pool.call("ok", null, String.class)).isEqualTo("ok");
        }
        assertThatThrownBy(() -> pool.call("fail", null)).isInstanceOf(PythonException.class);
        await().until(() -> after.events.size() == 9);
        assertThat(after.events).containsExactlyInAnyOrder("ready w1", "start ok", "end ok SUCCESS", "start ok",
                "end ok SUCCESS", "start ok", "end ok SUCCESS", "start fail", "end fail PYTHON_ERROR");
    }

    @Test
    void aListenerMustNotBeNull() {
        assertThatThrownBy(() -> PythonPool.builder().listener(null)).isInstanceOf(NullPointerException.class);
    }
}
