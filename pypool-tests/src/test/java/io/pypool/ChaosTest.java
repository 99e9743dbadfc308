package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 32 threads call a pool for about 20 s while workers are killed at random every ~500 ms, one is
 * stopped with SIGSTOP and one writes garbage onto its protocol channel. Workers run several calls
 * at once; some callers own a session whose counter is checked on every call; some send 1 MB
 * frames; some handlers leave a child process behind; some read streams (every item checked, in
 * order) and some handlers call back into Java (the answer checked against the question). Run alone with
 * {@code ./mvnw -pl pypool-tests -am test -Dgroups=chaos -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("chaos")
@org.junit.jupiter.api.parallel.Isolated
class ChaosTest {
    private static final int THREADS = 32;
    private static final int WORKERS = 4;
    private static final Duration RUN = Duration.ofSeconds(20);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(2);
    /** How far past its deadline a call may return: scheduling on a loaded 2-core machine, not a hang. */
    private static final Duration DEADLINE_MARGIN = Duration.ofMillis(500);

    @Test
    void poolSurvivesRandomKillsAStoppedWorkerAndGarbageWithNothingMisdelivered() throws Exception {
        Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
        AtomicLong misdelivered = new AtomicLong();
        AtomicLong overdue = new AtomicLong();
        AtomicLong worstOverrunMillis = new AtomicLong();
        Set<Long> pidsSeen = ConcurrentHashMap.newKeySet();
        AtomicLong counterBroken = new AtomicLong();
        AtomicLong sessionChecks = new AtomicLong();
        AtomicLong bigFrames = new AtomicLong();
        AtomicLong streamsRead = new AtomicLong();
        AtomicLong callbacksChecked = new AtomicLong();
        String big = "b".repeat(1 << 20);
        List<Long> allPids;

        PythonPool pool = TestPools.builder().name("chaos").workers(WORKERS).callTimeout(CALL_TIMEOUT)
                .maxInFlightPerWorker(4).handlerThreads(2)
                .healthCheckInterval(Duration.ofMillis(200)).maxQueuedCalls(10_000)
                .javaFunction("chaos.echo", args -> args).build();
        try {
            long end = System.nanoTime() + RUN.toNanos();
            List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                Thread caller = new Thread(() -> {
                    long n = 0;
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    PythonSession session = null;
                    int expected = 0;
                    while (System.nanoTime() < end) {
                        String nonce = thread + "/" + n++;
                        CallOptions options = random.nextBoolean() ? CallOptions.DEFAULTS : CallOptions.idempotent();
                        long started = System.nanoTime();
                        String outcome;
                        try {
                            if (thread % 4 == 0) {
                                // A session's counter: every success is exactly one more than the last.
                                if (session == null) {
                                    session = pool.newSession();
                                    expected = 0;
                                }
                                int value = session.call("t.session_rmw", Map.of("pause_ms", 0), Integer.class);
                                sessionChecks.incrementAndGet();
                                if (value != ++expected) {
                                    counterBroken.incrementAndGet();
                                }
                            } else if (thread % 8 == 1 && n % 4 == 0) {
                                String value = nonce + big;
                                String echoed = pool.call("echo", Map.of("value", value), String.class, options);
                                bigFrames.incrementAndGet();
                                if (!value.equals(echoed)) {
                                    misdelivered.incrementAndGet();
                                }
                            } else if (thread % 8 == 5 && n % 2 == 0) {
                                // A stream: whatever arrives must be 0, 1, 2... in order, and all 50 on success.
                                int next = 0;
                                try (java.util.stream.Stream<Integer> items = pool.stream("s.count", Map.of("n", 50),
                                        Integer.class, StreamOptions.DEFAULTS.withWindow(8, 1 << 20)
                                                .withTimeout(CALL_TIMEOUT))) {
                                    for (java.util.Iterator<Integer> it = items.iterator(); it.hasNext(); next++) {
                                        if (it.next() != next) {
                                            misdelivered.incrementAndGet();
                                        }
                                    }
                                }
                                if (next != 50) {
                                    misdelivered.incrementAndGet();
                                }
                                streamsRead.incrementAndGet();
                            } else if (thread % 8 == 7 && n % 2 == 0) {
                                // A callback into Java: the handler gets back exactly what it sent.
                                JsonNode back = pool.call("j.call", Map.of("name", "chaos.echo", "args", Map.of("nonce", nonce)),
                                        JsonNode.class, options);
                                if (!nonce.equals(back.path("nonce").asText())) {
                                    misdelivered.incrementAndGet();
                                }
                                callbacksChecked.incrementAndGet();
                            } else if (thread % 8 == 3 && n % 50 == 0) {
                                pidsSeen.add(pool.call("t.spawn_child", Map.of("seconds", 300), Long.class));
                            } else {
                                JsonNode reply = pool.call("fault.echo", Map.of("nonce", nonce, "delay_ms", random.nextInt(3)),
                                        JsonNode.class, options);
                                pidsSeen.add(reply.get("pid").asLong());
                                if (!nonce.equals(reply.get("nonce").asText())) {
                                    misdelivered.incrementAndGet();
                                }
                            }
                            outcome = "success";
                        } catch (InterruptedException e) {
                            return;
                        } catch (SessionLostException e) {
                            session = null; // its worker died: start a fresh one
                            outcome = e.getClass().getSimpleName();
                        } catch (RuntimeException e) {
                            outcome = e.getClass().getSimpleName();
                        }
                        long overrun = System.nanoTime() - started - CALL_TIMEOUT.toNanos();
                        worstOverrunMillis.accumulateAndGet(overrun / 1_000_000, Math::max);
                        if (overrun > DEADLINE_MARGIN.toNanos()) {
                            overdue.incrementAndGet();
                        }
                        outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
                    }
                }, "chaos-caller-" + t);
                callers.add(caller);
                caller.start();
            }

            ThreadLocalRandom random = ThreadLocalRandom.current();
            int round = 0;
            Map<String, Integer> injected = new TreeMap<>();
            while (System.nanoTime() < end) {
                Thread.sleep(400 + random.nextInt(200)); // the chaos schedule itself, not a wait for a condition
                List<PoolStats.Worker> ready = pool.stats().workers().stream().filter(w -> w.state().equals("READY")).toList();
                ready.forEach(w -> pidsSeen.add(w.pid()));
                if (ready.isEmpty()) {
                    continue;
                }
                PoolStats.Worker victim = ready.get(random.nextInt(ready.size()));
                round++;
                if (round == 10) {
                    TestPools.signal(victim.pid(), "STOP");
                    injected.merge("SIGSTOP", 1, Integer::sum);
                } else if (round == 20) {
                    try {
                        pool.call("fault.garbage", Map.of("text", "chaos: garbage written onto the protocol channel\n"), JsonNode.class,
                                CallOptions.timeout(Duration.ofSeconds(5)));
                    } catch (ProtocolException expected) {
                        injected.merge("garbage", 1, Integer::sum);
                    } catch (PypoolException other) {
                        injected.merge("garbage (" + other.getClass().getSimpleName() + ")", 1, Integer::sum);
                    }
                } else {
                    ProcessHandle.of(victim.pid()).ifPresent(ProcessHandle::destroyForcibly);
                    injected.merge("SIGKILL", 1, Integer::sum);
                }
            }
            for (Thread caller : callers) {
                caller.join();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> TestPools.allReady(pool, WORKERS));
            pool.stats().workers().forEach(w -> pidsSeen.add(w.pid()));
            await().atMost(Duration.ofSeconds(10)).until(() -> pool.stats().queuedCalls() == 0);

            Map<String, Long> byOutcome = new TreeMap<>();
            outcomes.forEach((k, v) -> byOutcome.put(k, v.sum()));
            System.out.printf("chaos: faults injected %s; calls by outcome %s; misdelivered %d; overdue %d "
                            + "(worst overrun %d ms past the %d ms deadline); session counter checks %d, broken %d; "
                            + "1 MB frames %d; streams read %d; callbacks checked %d; restarts %d; health %s%n",
                    injected, byOutcome, misdelivered.get(), overdue.get(), Math.max(0, worstOverrunMillis.get()),
                    CALL_TIMEOUT.toMillis(), sessionChecks.get(), counterBroken.get(), bigFrames.get(), streamsRead.get(),
                    callbacksChecked.get(),
                    pool.stats().restarts(), pool.health());

            assertThat(injected.get("SIGKILL")).isGreaterThan(20);
            assertThat(injected).containsKeys("SIGSTOP", "garbage");
            assertThat(misdelivered.get()).as("replies delivered to the wrong caller").isZero();
            assertThat(counterBroken.get()).as("session counters that skipped or repeated").isZero();
            assertThat(sessionChecks.get()).isGreaterThan(100L);
            assertThat(bigFrames.get()).isGreaterThan(10L);
            assertThat(streamsRead.get()).isGreaterThan(50L);
            assertThat(callbacksChecked.get()).isGreaterThan(50L);
            assertThat(pool.stats().queuedCalls()).isZero();
            assertThat(overdue.get()).as("calls that outlived their deadline by more than %s", DEADLINE_MARGIN).isZero();
            assertThat(byOutcome.get("success")).isGreaterThan(1000L);
            assertThat(byOutcome.keySet()).as("only these failures are expected under chaos")
                    // ProtocolException: calls that were running on the worker that wrote garbage.
                    .isSubsetOf("success", "WorkerCrashedException", "CallTimeoutException", "SessionLostException",
                            "ProtocolException");
            assertThat(pool.stats().workers()).hasSize(WORKERS);
        } finally {
            allPids = new ArrayList<>(pidsSeen);
            pool.close();
        }
        TestPools.assertNoneAlive(allPids);
    }
}
