package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Routing, strands, deadlines and supervision, on in-JVM fake workers: no Python, no processes. */
class EngineTest {
    private final List<PoolEngine> pools = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void closeAll() {
        threads.shutdownNow();
        pools.forEach(PoolEngine::close);
    }

    private PoolEngine pool(FakeLauncher launcher, UnaryOperator<PythonPoolBuilder> config) {
        PythonPoolBuilder builder = PythonPool.builder().name("fake").workers(1).reapOrphans(false)
                .callTimeout(Duration.ofSeconds(10));
        PoolEngine pool = PoolEngine.start(config.apply(builder).settings(), p -> launcher);
        pools.add(pool);
        return pool;
    }

    /** A worker whose handler for {@code command} holds until {@code release}; every command answers its own name. */
    private static FakeLauncher holding(int handlerThreads, String command, CountDownLatch release) {
        return new FakeLauncher(handlerThreads, (w, cmd, args, session) -> {
            if (cmd.equals(command)) {
                release.await();
            }
            return cmd;
        });
    }

    private static int arg(JsonNode args, String name) {
        return args.get(name).asInt();
    }

    @Test
    void oneSessionsCallsNeverInterleave() throws Exception {
        Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
        AtomicInteger overlaps = new AtomicInteger();
        Map<String, Integer> counters = new ConcurrentHashMap<>();
        FakeLauncher launcher = new FakeLauncher(8, (w, cmd, args, session) -> {
            AtomicInteger now = running.computeIfAbsent(session, k -> new AtomicInteger());
            if (now.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
            }
            int read = counters.getOrDefault(session, 0);
            Thread.sleep(1); // read, pause, write: lost updates if two calls of a session overlap
            counters.put(session, read + 1);
            now.decrementAndGet();
            return read + 1;
        });
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(8));
        PythonSession session = pool.session("shared");
        List<Future<List<Integer>>> callers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            callers.add(threads.submit(() -> {
                List<Integer> seen = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    seen.add(session.call("step", Map.of(), Integer.class));
                }
                return seen;
            }));
        }
        for (Future<List<Integer>> caller : callers) {
            caller.get(30, TimeUnit.SECONDS);
        }
        assertThat(counters.get("shared")).isEqualTo(400);
        assertThat(overlaps).hasValue(0);
    }

    @Test
    void aSessionsCallsRunInTheOrderTheyWereMade() throws Exception {
        List<Integer> ran = new CopyOnWriteArrayList<>();
        FakeLauncher launcher = new FakeLauncher(8, (w, cmd, args, session) -> {
            ran.add(arg(args, "i"));
            return null;
        });
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(8));
        PythonSession session = pool.session("ordered");
        List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            calls.add(session.callAsync("step", Map.of("i", i))); // eight handler threads could take them in any order
        }
        for (CompletableFuture<JsonNode> c : calls) {
            c.get(10, TimeUnit.SECONDS);
        }
        assertThat(ran).isEqualTo(java.util.stream.IntStream.range(0, 200).boxed().toList());
    }

    @Test
    void otherCallsUseTheWorkersOtherSlotsWhileASessionRuns() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(4, "block", release);
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(4));
        CompletableFuture<String> blocked = pool.session("s").callAsync("block", null, String.class);
        assertThat(pool.call("quick", null, String.class)).isEqualTo("quick");
        assertThat(pool.session("other").call("quick", null, String.class)).isEqualTo("quick");
        release.countDown();
        assertThat(blocked.get(5, TimeUnit.SECONDS)).isEqualTo("block");
    }

    @Test
    void aSessionsCloseNoticeRunsAfterItsCalls() throws Exception {
        List<String> order = new CopyOnWriteArrayList<>();
        FakeLauncher launcher = new FakeLauncher(4, (w, cmd, args, session) -> {
            Thread.sleep(100);
            order.add(cmd);
            return null;
        }) ;
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(4));
        PythonSession s = pool.session("s");
        CompletableFuture<JsonNode> slow = s.callAsync("slow", null);
        s.close();
        slow.get(5, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() -> launcher.received("close_session") == 1);
        assertThat(order).containsExactly("slow");
        assertThat(launcher.log).containsSubsequence("start:slow", "end:slow", "start:close_session");
        assertThat(launcher.log.indexOf("start:close_session")).isGreaterThan(launcher.log.indexOf("end:slow"));
        assertThatThrownBy(() -> s.call("after", null)).isInstanceOf(SessionLostException.class);
    }

    @Test
    void closingManySessionsDropsNoNotice() throws Exception {
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> 1);
        PoolEngine pool = pool(launcher, b -> b.maxQueuedCalls(5));
        List<PythonSession> sessions = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            PythonSession s = pool.session("s" + i);
            s.call("touch", null);
            sessions.add(s);
        }
        sessions.forEach(PythonSession::close);
        // Meanwhile the pool's queue is free for callers: the notices do not count against it.
        for (int i = 0; i < 20; i++) {
            assertThat(pool.call("other", null, Integer.class)).isEqualTo(1);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> launcher.received("close_session") == 20_000);
        assertThat(pool.stats().sessions()).isZero();
    }

    @Test
    void aCallWhoseDeadlinePassedWhileQueuedIsNeverSent() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(1, "slow", release);
        PoolEngine pool = pool(launcher, b -> b);
        CompletableFuture<String> slow = pool.callAsync("slow", null, String.class);
        await().until(() -> launcher.received("slow") == 1);
        assertThatThrownBy(() -> pool.call("late", null, String.class, CallOptions.timeout(Duration.ofMillis(100))))
                .isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                    assertThat(e.whileExecuting()).isFalse();
                    assertThat(e).hasMessageContaining("waiting for a worker");
                });
        release.countDown();
        assertThat(slow.get(5, TimeUnit.SECONDS)).isEqualTo("slow");
        assertThat(pool.call("next", null, String.class)).isEqualTo("next");
        assertThat(launcher.received("late")).isZero();
        assertThat(pool.stats().restarts()).isZero();
    }

    @Test
    void aCallThatTimedOutInTheWorkersInputDoesNotGetItRetired() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(1, "slow", release);
        // Two slots, one handler thread: the second call waits in the worker's own input (the pool's
        // clock stands, so the busy worker counts as moving and is sent it).
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(2).handlerThreads(1).clock(() -> 0L));
        CompletableFuture<String> slow = pool.callAsync("slow", null, String.class);
        await().until(() -> launcher.received("slow") == 1);
        // Long enough to be sure it is sent (even on a loaded machine), not run: the worker's one thread is busy.
        assertThatThrownBy(() -> pool.call("queued", null, String.class, CallOptions.timeout(Duration.ofMillis(1000))))
                .isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                    assertThat(e.whileExecuting()).isFalse();
                    assertThat(e).hasMessageContaining("sent to worker");
                });
        release.countDown();
        assertThat(slow.get(5, TimeUnit.SECONDS)).isEqualTo("slow");
        await().until(() -> launcher.launched.get(0).expired.get() == 1); // refused there, never run
        assertThat(launcher.received("queued")).isZero();
        assertThat(pool.call("next", null, String.class)).isEqualTo("next");
        assertThat(pool.stats().restarts()).isZero();
        assertThat(launcher.launched).hasSize(1);
    }

    @Test
    void aWorkerRunningACallPastItsDeadlineIsReplaced() throws Exception {
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> {
            if (cmd.equals("hang")) {
                w.hang();
            }
            return cmd;
        });
        PoolEngine pool = pool(launcher, b -> b);
        assertThatThrownBy(() -> pool.call("hang", null, String.class, CallOptions.timeout(Duration.ofMillis(500))))
                .isInstanceOfSatisfying(CallTimeoutException.class, e -> assertThat(e.whileExecuting()).isTrue());
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().restarts() == 1 && pool.workers()[0].isReady());
        assertThat(pool.call("next", null, String.class)).isEqualTo("next");
        assertThat(launcher.launched.get(0).exited()).isTrue();
    }

    @Test
    void aLateReplyNeverReachesAnotherCallerWithManyCallsInFlight() throws Exception {
        FakeLauncher launcher = new FakeLauncher(4, (w, cmd, args, session) -> {
            Thread.sleep(arg(args, "ms"));
            return arg(args, "v");
        });
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(4));
        CompletableFuture<Integer> late = pool.callAsync("echo", Map.of("ms", 400, "v", 1), Integer.class,
                CallOptions.timeout(Duration.ofMillis(100)));
        List<CompletableFuture<Integer>> others = new ArrayList<>();
        for (int v = 2; v <= 4; v++) {
            others.add(pool.callAsync("echo", Map.of("ms", 600, "v", v), Integer.class));
        }
        assertThatThrownBy(() -> late.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(CallTimeoutException.class);
        for (int v = 2; v <= 4; v++) {
            assertThat(others.get(v - 2).get(5, TimeUnit.SECONDS)).isEqualTo(v); // each its own, never 1
        }
    }

    @Test
    void aWorkerThatKeepsCrashingWhileServingNeverMakesThePoolGiveItsSlotUp() throws Exception {
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> cmd.equals("die") ? FakeLauncher.DIE : cmd);
        PoolEngine pool = pool(launcher, b -> b.maxConsecutiveStartFailures(2));
        for (int i = 0; i < 5; i++) {
            await().atMost(Duration.ofSeconds(10)).until(() -> pool.workers()[0].isReady());
            assertThatThrownBy(() -> pool.call("die", null)).isInstanceOf(WorkerCrashedException.class);
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> pool.workers()[0].isReady());
        assertThat(pool.health().problems()).noneMatch(p -> p.contains("gave up"));
        assertThat(pool.call("ok", null, String.class)).isEqualTo("ok");
    }

    @Test
    void aSlotGivenUpAfterFailedStartsIsTriedAgainAfterACoolDown() throws Exception {
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> cmd);
        launcher.failLaunch = n -> n > 1; // the first worker starts, every later start fails
        PoolEngine pool = pool(launcher, b -> b.workers(2).minReadyWorkers(1).maxConsecutiveStartFailures(2)
                .slotRetryAfter(Duration.ofMillis(500)));
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.health().problems().stream()
                .anyMatch(p -> p.contains("gave up on slot")));
        assertThat(pool.health().status()).isEqualTo(PoolHealth.Status.DEGRADED);
        launcher.failLaunch = n -> false; // the outage passes
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.stats().workers().stream()
                .allMatch(w -> w.state().equals("READY")));
        assertThat(pool.health().status()).isEqualTo(PoolHealth.Status.HEALTHY);
    }

    @Test
    void byDefaultCallsWaitInAMovingWorkerButNotBehindOneThatStopped() throws Exception {
        AtomicLong now = new AtomicLong();
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(1, "slow", release);
        PoolEngine pool = pool(launcher, b -> b.clock(now::get)); // default settings: one handler thread
        Worker worker = pool.workers()[0];
        CompletableFuture<String> slow = pool.callAsync("slow", null, String.class);
        await().until(() -> launcher.received("slow") == 1);
        // The worker just became busy: a call may wait in its input (pipelined) behind the running one.
        CompletableFuture<String> piped = pool.callAsync("piped", null, String.class);
        assertThat(worker.inFlight()).as("sent to the busy worker").isEqualTo(2);
        now.addAndGet(Worker.PIPELINE_WINDOW_NANOS); // no answer for a whole window: it stopped moving
        CompletableFuture<String> held = pool.callAsync("held", null, String.class);
        assertThat(pool.dispatcher().queuedAnonymous()).as("kept in the pool's queue").isEqualTo(1);
        assertThat(worker.inFlight()).isEqualTo(2);
        release.countDown();
        assertThat(slow.get(5, TimeUnit.SECONDS)).isEqualTo("slow");
        assertThat(piped.get(5, TimeUnit.SECONDS)).isEqualTo("piped");
        assertThat(held.get(5, TimeUnit.SECONDS)).isEqualTo("held");
        assertThat(launcher.log).containsSubsequence("end:slow", "start:piped", "end:piped", "start:held");
    }

    @Test
    void noCallIsQueuedBehindACommandKnownToBeSlow() throws Exception {
        AtomicLong now = new AtomicLong();
        CountDownLatch[] release = {new CountDownLatch(1)};
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> {
            if (cmd.equals("slow")) {
                release[0].await();
            }
            return cmd;
        });
        PoolEngine pool = pool(launcher, b -> b.clock(now::get));
        Worker worker = pool.workers()[0];
        // Taught: "slow" takes 5 ms in the worker (on the pool's clock).
        CompletableFuture<String> first = pool.callAsync("slow", null, String.class);
        await().until(() -> launcher.received("slow") == 1);
        now.addAndGet(5 * Worker.PIPELINE_WINDOW_NANOS);
        release[0].countDown();
        assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo("slow");
        release[0] = new CountDownLatch(1);
        CompletableFuture<String> second = pool.callAsync("slow", null, String.class);
        await().until(() -> launcher.received("slow") == 2);
        // The worker just became busy (within the window), but with a command known to be slow.
        CompletableFuture<String> quick = pool.callAsync("quick", null, String.class);
        assertThat(pool.dispatcher().queuedAnonymous()).as("not queued behind it").isEqualTo(1);
        assertThat(worker.inFlight()).isEqualTo(1);
        release[0].countDown();
        assertThat(second.get(5, TimeUnit.SECONDS)).isEqualTo("slow");
        assertThat(quick.get(5, TimeUnit.SECONDS)).isEqualTo("quick");
    }

    @Test
    void aCommandsTimeCountsFromItsStartNotItsWaitBehindAnother() throws Exception {
        AtomicLong now = new AtomicLong();
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(1, "slow", release);
        PoolEngine pool = pool(launcher, b -> b.clock(now::get));
        CompletableFuture<String> slow = pool.callAsync("slow", null, String.class);
        await().until(() -> launcher.received("slow") == 1);
        CompletableFuture<String> quick = pool.callAsync("quick", null, String.class); // waits in the worker
        assertThat(pool.workers()[0].inFlight()).isEqualTo(2);
        now.addAndGet(5 * Worker.PIPELINE_WINDOW_NANOS);
        release.countDown();
        assertThat(slow.get(5, TimeUnit.SECONDS)).isEqualTo("slow");
        assertThat(quick.get(5, TimeUnit.SECONDS)).isEqualTo("quick");
        assertThat(pool.commandTimes().slowerThan("slow", Worker.PIPELINE_WINDOW_NANOS)).isTrue();
        // Under load every call waits behind others: counting that wait would make every command
        // look slow, and stop the pipelining that load needs most.
        assertThat(pool.commandTimes().slowerThan("quick", Worker.PIPELINE_WINDOW_NANOS)).isFalse();
    }

    @Test
    void aSessionsCallWaitsInThePoolWhileItsWorkerIsStuck() throws Exception {
        AtomicLong now = new AtomicLong();
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(1, "slow", release);
        PoolEngine pool = pool(launcher, b -> b.clock(now::get));
        PythonSession session = pool.session("s");
        CompletableFuture<String> slow = pool.callAsync("slow", null, String.class);
        await().until(() -> launcher.received("slow") == 1);
        now.addAndGet(Worker.PIPELINE_WINDOW_NANOS);
        // Where it can still be cancelled or time out without the worker: in the pool.
        CompletableFuture<String> mine = session.callAsync("mine", null, String.class);
        assertThat(pool.dispatcher().queued()).isEqualTo(1);
        assertThat(pool.workers()[0].inFlight()).isEqualTo(1);
        release.countDown();
        assertThat(mine.get(5, TimeUnit.SECONDS)).isEqualTo("mine");
        assertThat(slow.get(5, TimeUnit.SECONDS)).isEqualTo("slow");
    }

    @Test
    void callDeadlinesAreRealTimeEvenWhenThePoolClockStands() {
        PoolClock frozen = () -> 42L;
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> {
            w.hang();
            return null;
        });
        PoolEngine pool = pool(launcher, b -> b.clock(frozen));
        assertThatThrownBy(() -> pool.call("hang", null, JsonNode.class, CallOptions.timeout(Duration.ofMillis(200))))
                .isInstanceOf(CallTimeoutException.class);
        CompletableFuture<JsonNode> async = pool.callAsync("hang", null, JsonNode.class, CallOptions.timeout(Duration.ofMillis(200)));
        assertThatThrownBy(() -> async.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(CallTimeoutException.class);
    }

    @Test
    void underTheWaitPolicyBlockingCallersWaitForRoomAndAsyncCallersDoNot() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(1, "block", release);
        PoolEngine pool = pool(launcher, b -> b.maxQueuedCalls(2).saturationPolicy(SaturationPolicy.WAIT));
        CompletableFuture<String> first = pool.callAsync("block", null, String.class);
        await().until(() -> launcher.received("block") == 1);
        List<Future<String>> waiting = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            waiting.add(threads.submit(() -> pool.call("add", null, String.class)));
        }
        await().until(() -> pool.dispatcher().queuedAnonymous() == 2);
        assertThatThrownBy(() -> pool.callAsync("add", null, String.class).get(5, TimeUnit.SECONDS))
                .hasCauseInstanceOf(PoolSaturatedException.class);
        release.countDown();
        first.get(5, TimeUnit.SECONDS);
        for (Future<String> f : waiting) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo("add");
        }
    }

    @Test
    void aCallThatNeverGetsRoomEndsWithATimeoutSayingSo() throws Exception {
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> {
            w.hang();
            return 1;
        });
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(1).maxQueuedCalls(1).saturationPolicy(SaturationPolicy.WAIT));
        pool.callAsync("hang", null);
        pool.callAsync("hang", null); // fills the queue
        await().until(() -> pool.dispatcher().queuedAnonymous() == 1);
        assertThatThrownBy(() -> pool.call("x", null, JsonNode.class, CallOptions.timeout(Duration.ofMillis(150))))
                .isInstanceOf(CallTimeoutException.class).hasMessageContaining("waiting for room");
    }

    @Test
    void aSessionsOwnQueueBoundKeepsItFromFillingThePools() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(2, "block", release);
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(2).maxQueuedCalls(3).maxQueuedCallsPerSession(5));
        PythonSession busy = pool.session("busy");
        List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            calls.add(busy.callAsync("block", null)); // one runs, five wait in the session's strand
        }
        assertThatThrownBy(() -> busy.callAsync("block", null).get(5, TimeUnit.SECONDS))
                .hasCauseInstanceOf(PoolSaturatedException.class).hasMessageContaining("maxQueuedCallsPerSession");
        assertThat(pool.call("anon", null, String.class)).isEqualTo("anon"); // the pool's queue and slots are still free
        release.countDown();
        for (CompletableFuture<JsonNode> c : calls) {
            c.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aSessionOpenedWithMoreInFlightOverlapsItsCalls() throws Exception {
        CountDownLatch both = new CountDownLatch(2);
        FakeLauncher launcher = new FakeLauncher(2, (w, cmd, args, session) -> {
            both.countDown();
            return both.await(5, TimeUnit.SECONDS); // true only if the two calls ran at once
        });
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(2));
        PythonSession s = pool.session("wide", SessionOptions.DEFAULTS.withMaxInFlight(2));
        CompletableFuture<Boolean> a = s.callAsync("meet", null, Boolean.class);
        CompletableFuture<Boolean> b = s.callAsync("meet", null, Boolean.class);
        assertThat(a.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(b.get(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aSessionWithARestoreStepMovesAfterItsWorkerDies() throws Exception {
        Map<String, Integer> restored = new ConcurrentHashMap<>();
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> switch (cmd) {
            case "die" -> FakeLauncher.DIE;
            case "restore" -> restored.merge(w.id, 1, Integer::sum);
            default -> w.id;
        });
        PoolEngine pool = pool(launcher, b -> b);
        PythonSession s = pool.session("s").onRestore("restore", null);
        String first = s.call("where", null, String.class);
        assertThatThrownBy(() -> s.call("die", null)).isInstanceOf(WorkerCrashedException.class);
        String second = s.call("where", null, String.class);
        assertThat(second).isNotEqualTo(first);
        assertThat(restored).containsEntry(second, 1);
    }

    @Test
    void aRestoreWhoseWorkerDiesUnderItRunsAgainOnTheNext() throws Exception {
        AtomicInteger restoresToKill = new AtomicInteger(1);
        Map<String, Integer> restored = new ConcurrentHashMap<>();
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> switch (cmd) {
            case "die" -> FakeLauncher.DIE;
            case "restore" -> restoresToKill.getAndDecrement() > 0 ? FakeLauncher.DIE : restored.merge(w.id, 1, Integer::sum);
            default -> w.id;
        });
        PoolEngine pool = pool(launcher, b -> b.workers(3));
        PythonSession s = pool.session("s").onRestore("restore", null);
        String first = s.call("where", null, String.class);
        assertThatThrownBy(() -> s.call("die", null)).isInstanceOf(WorkerCrashedException.class);
        List<CompletableFuture<String>> queued = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            queued.add(s.callAsync("where", null, String.class));
        }
        for (CompletableFuture<String> c : queued) {
            String where = c.get(10, TimeUnit.SECONDS);
            assertThat(where).isNotEqualTo(first);
            assertThat(restored).containsEntry(where, 1); // each ran after a restore that succeeded there
        }
        assertThat(restoresToKill.get()).isNegative(); // the first restore's worker died, the next one ran
    }

    @Test
    void aCloseNoticeWaitingOnARecycledWorkerLeaksNoQueuedCall() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(1, "block", release);
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(1));
        PythonSession s = pool.session("s");
        s.call("touch", null);
        CompletableFuture<JsonNode> blocker = pool.callAsync("block", null); // takes the only slot
        await().until(() -> launcher.received("block") == 1);
        s.close(); // its notice waits in the worker's own queue
        await().until(() -> pool.dispatcher().queued() == 1);
        pool.supervisor().retire(pool.workers()[0], "recycled by the test", true);
        release.countDown();
        blocker.get(5, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.dispatcher().queued() == 0);
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.workers()[0].isReady());
        assertThat(pool.call("after", null, String.class)).isEqualTo("after");
    }

    @Test
    void aSetupStepIsKeptOnlyIfItWorksAndANewWorkerThatRefusesItServesWithoutLooping() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean backendUp = new java.util.concurrent.atomic.AtomicBoolean(true);
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> switch (cmd) {
            case "configure" -> {
                if (!backendUp.get() || args.get("bad").asBoolean()) {
                    throw new IllegalStateException("backend refused");
                }
                yield "ok";
            }
            case "die" -> FakeLauncher.DIE;
            default -> cmd;
        });
        PoolEngine pool = pool(launcher, b -> b.workers(2));
        // Refused on the first worker: nothing is kept, no worker is touched.
        assertThatThrownBy(() -> pool.configureWorkers("k", "configure", Map.of("bad", true)).get(5, TimeUnit.SECONDS))
                .hasCauseInstanceOf(PythonException.class).hasMessageContaining("backend refused");
        assertThat(launcher.received("configure")).isEqualTo(1); // tried on one worker only
        pool.configureWorkers("k", "configure", Map.of("bad", false)).get(5, TimeUnit.SECONDS);
        assertThat(launcher.received("configure")).isEqualTo(3); // then on the trial worker and the other
        // The backend goes away; a replacement refuses the kept step: it serves, nothing loops.
        backendUp.set(false);
        assertThatThrownBy(() -> pool.call("die", null)).isInstanceOf(WorkerCrashedException.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> allReady(pool));
        assertThat(pool.health().problems()).anyMatch(p -> p.contains("refused setup step 'configure'")
                && p.contains("serves without it"));
        assertThat(pool.stats().restarts()).isEqualTo(1);
        assertThat(pool.call("x", null, String.class)).isEqualTo("x");
    }

    private static boolean allReady(PoolEngine pool) {
        return pool.stats().workers().stream().allMatch(w -> w.state().equals("READY"));
    }

    @Test
    void recyclingByCallsCountsCallersCallsNotPings() throws Exception {
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> cmd);
        PoolEngine pool = pool(launcher, b -> b.recycleAfterCalls(3).healthCheckInterval(Duration.ofMillis(30)));
        await().atMost(Duration.ofSeconds(10)).until(() -> launcher.log.stream().filter("end:ping"::equals).count() >= 5);
        assertThat(pool.stats().restarts()).isZero(); // five pings answered: not a call of anyone's
        for (int i = 0; i < 3; i++) {
            pool.call("work", null);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.stats().restarts() == 1);
    }

    @Test
    void concurrentClosesDoNotBlockEachOther() throws Exception {
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> 1);
        PoolEngine pool = pool(launcher, b -> b.workers(2));
        List<Future<?>> closers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            closers.add(threads.submit(pool::close));
        }
        for (Future<?> f : closers) {
            f.get(20, TimeUnit.SECONDS);
        }
        assertThat(launcher.launched).allMatch(FakeLauncher.FakeWorker::exited);
        assertThatThrownBy(() -> pool.call("x", null)).isInstanceOf(PoolClosedException.class);
    }

    @Test
    void interruptingABlockedCallerNeverSendsItsQueuedCall() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(1, "block", release);
        PoolEngine pool = pool(launcher, b -> b);
        CompletableFuture<JsonNode> blocker = pool.callAsync("block", null);
        await().until(() -> launcher.received("block") == 1);
        Future<?> caller = threads.submit(() -> pool.call("queued", null));
        await().until(() -> pool.dispatcher().queuedAnonymous() == 1);
        caller.cancel(true);
        await().until(() -> pool.dispatcher().queuedAnonymous() == 0);
        release.countDown();
        blocker.get(5, TimeUnit.SECONDS);
        assertThat(pool.call("after", null, String.class)).isEqualTo("after");
        assertThat(launcher.received("queued")).isZero();
        assertThatThrownBy(caller::get).isInstanceOfAny(java.util.concurrent.CancellationException.class, ExecutionException.class);
    }

    // ---- cancel and streams, as frames ----------------------------------------------------------------

    @Test
    void cancellingARunningCallSendsACancelForItsRequestAndKeepsItsSlotUntilItsReply() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(1, "slow", release);
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(1));
        CompletableFuture<String> slow = pool.callAsync("slow", null, String.class);
        await().until(() -> launcher.received("slow") == 1);
        slow.cancel(true);
        await().until(() -> launcher.launched.get(0).controls.stream().anyMatch(c -> c.startsWith(FrameCodec.CANCEL + ":")));
        assertThat(pool.workers()[0].inFlight()).as("held until the worker answers").isEqualTo(1);
        CompletableFuture<String> next = pool.callAsync("next", null, String.class);
        assertThat(pool.stats().queuedCalls()).isEqualTo(1);
        release.countDown();
        assertThat(next.get(5, TimeUnit.SECONDS)).isEqualTo("next");
        assertThat(pool.stats().restarts()).isZero();
    }

    @Test
    void aCancelledQueuedCallSendsNothing() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FakeLauncher launcher = holding(1, "slow", release);
        PoolEngine pool = pool(launcher, b -> b.maxInFlightPerWorker(1));
        CompletableFuture<String> slow = pool.callAsync("slow", null, String.class);
        await().until(() -> launcher.received("slow") == 1);
        CompletableFuture<String> queued = pool.callAsync("queued", null, String.class);
        queued.cancel(true);
        release.countDown();
        assertThat(slow.get(5, TimeUnit.SECONDS)).isEqualTo("slow");
        assertThat(pool.call("after", null, String.class)).isEqualTo("after");
        assertThat(launcher.received("queued")).isZero();
        assertThat(launcher.launched.get(0).controls).isEmpty();
    }

    @Test
    void aWorkerThatSendsMoreItemsThanItsCreditIsEnded() throws Exception {
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> {
            if (cmd.equals("flood")) {
                for (int i = 0; i < 5; i++) { // the window is 2
                    w.deliver(FrameCodec.STREAM_ITEM, w.current.get(), Integer.toString(i));
                }
            }
            return Map.of("items", 5);
        });
        PoolEngine pool = pool(launcher, b -> b);
        try (java.util.stream.Stream<Integer> s = pool.stream("flood", null, Integer.class,
                StreamOptions.DEFAULTS.withWindow(2, 1 << 20))) {
            assertThatThrownBy(s::toList).isInstanceOf(WorkerCrashedException.class)
                    .hasMessageContaining("more items of stream 'flood' than its credit allowed");
        }
        await().until(() -> pool.stats().restarts() == 1);
    }

    @Test
    void aStreamItemForARequestThatIsNoStreamEndsTheWorker() throws Exception {
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> {
            w.deliver(FrameCodec.STREAM_ITEM, w.current.get(), "1");
            return cmd;
        });
        PoolEngine pool = pool(launcher, b -> b);
        assertThatThrownBy(() -> pool.call("plain", null, String.class)).isInstanceOf(WorkerCrashedException.class)
                .hasMessageContaining("which is not a stream it runs");
    }
}
