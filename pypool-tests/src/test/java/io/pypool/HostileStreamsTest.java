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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Flow;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streams against hostile generators and hostile consumers: items the worker cannot send,
 * generators that refuse to stop, fork, close their descriptors or kill their process, consumers
 * that drop iterators, never read, or read from many threads at once.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostileStreamsTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path tmp;

    static PythonPoolBuilder hostile() {
        return TestPools.builder()
                .handlerModules("pypool.examples", "pypool.faults", "pypool_test_handlers", "conversation_handlers",
                        "hostile_conversation_handlers")
                .closeGracePeriod(Duration.ofSeconds(1));
    }

    private static boolean says(Path marker, String text) throws Exception {
        return Files.exists(marker) && Files.readString(marker).startsWith(text);
    }

    private static int inFlight(PythonPool pool) {
        return pool.stats().workers().stream().mapToInt(PoolStats.Worker::inFlight).sum();
    }

    // ---- consumers ---------------------------------------------------------------------------

    /**
     * {@code pool.stream(...).iterator()} is the plain way to pull items one at a time. The
     * iterator is all the consumer keeps; the Stream object itself is garbage at once. The stream
     * must not be cancelled "as dropped" while its iterator is still being read.
     */
    @Test
    void anIteratorKeptWithoutItsStreamObjectIsNotCancelledByTheCleaner() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        Iterator<Integer> it = pool.stream("s.count", Map.of("n", 300), Integer.class,
                StreamOptions.DEFAULTS.withWindow(4, 1 << 20)).iterator();
        int expected = 0;
        while (it.hasNext()) {
            assertThat(it.next()).isEqualTo(expected);
            expected++;
            if (expected % 10 == 0) {
                System.gc(); // the collector runs whenever it likes; here it runs now
            }
        }
        assertThat(expected).as("every item, none cancelled under the reader").isEqualTo(300);
    }

    @Test
    void streamsDroppedUnreadAndUnclosedAreCancelledOnceUnreachable() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        for (int i = 0; i < 30; i++) {
            pool.stream("s.count", Map.of("n", 1_000_000), Integer.class,
                    StreamOptions.DEFAULTS.withTimeout(Duration.ofMinutes(5)).withWindow(2, 1 << 20));
        }
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            System.gc();
            return inFlight(pool) == 0;
        });
        assertThat(TestPools.pids(pool)).containsExactly(pid);
        assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
    }

    @Test
    void streamsNeverReadNorClosedEndAtTheirDeadlineWithoutCostingTheWorker() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        List<Stream<Integer>> held = new ArrayList<>(); // reachable: only the deadline can end them
        for (int i = 0; i < 20; i++) {
            held.add(pool.stream("s.count", Map.of("n", 1_000_000), Integer.class,
                    StreamOptions.DEFAULTS.withTimeout(Duration.ofMillis(800)).withWindow(3, 1 << 20)));
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> inFlight(pool) == 0);
        for (Stream<Integer> s : held) {
            Iterator<Integer> it = s.iterator();
            assertThatThrownBy(() -> {
                while (it.hasNext()) {
                    it.next();
                }
            }).isInstanceOf(CallTimeoutException.class);
        }
        assertThat(TestPools.pids(pool)).containsExactly(pid);
        assertThat(pool.stats().restarts()).isZero();
    }

    @Test
    void closingAStreamFromAnotherThreadReleasesItsBlockedConsumer() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        Stream<String> s = pool.stream("s.then_silent", Map.of("sleep_s", 60), String.class);
        Iterator<String> it = s.iterator();
        assertThat(it.next()).isEqualTo("first");
        CompletableFuture<Boolean> more = CompletableFuture.supplyAsync(it::hasNext);
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> !more.isDone());
        s.close();
        assertThat(more.get(10, TimeUnit.SECONDS)).as("the closed stream just ends for its reader").isFalse();
        // then_silent sleeps without a checkpoint: its slot comes back at its next item, 60 s later at most.
        assertThat(pool.call("add", List.of(1, 1), Integer.class)).isEqualTo(2);
    }

    @Test
    void fiftySlowConsumersShareOneWorker() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1).callTimeout(Duration.ofSeconds(90)));
        long pid = TestPools.pids(pool).get(0);
        ExecutorService threads = Executors.newFixedThreadPool(50);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < 50; t++) {
                done.add(threads.submit(() -> {
                    int seen = 0;
                    try (Stream<Integer> s = pool.stream("s.count", Map.of("n", 60), Integer.class,
                            StreamOptions.DEFAULTS.withWindow(2, 1 << 20))) {
                        Iterator<Integer> it = s.iterator();
                        while (it.hasNext()) {
                            assertThat(it.next()).isEqualTo(seen);
                            seen++;
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // a slow consumer
                        }
                    }
                    return seen;
                }));
            }
            for (Future<Integer> f : done) {
                assertThat(f.get(90, TimeUnit.SECONDS)).isEqualTo(60);
            }
        } finally {
            threads.shutdownNow();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0 && pool.stats().queuedCalls() == 0);
        assertThat(TestPools.pids(pool)).containsExactly(pid);
    }

    /**
     * A hundred streams opened at once from a hundred threads, on two workers with 64 slots each:
     * every stream must start. Streams hold no handler thread, so nothing else needs to happen
     * on the workers for the ones that had to wait in the pool's queue to be sent.
     */
    @Test
    void aHundredStreamsOpenedAtOnceAllStartWhileSlotsAreFree() throws Exception {
        PythonPool pool = pools.start(hostile().workers(2));
        int n = 100;
        ExecutorService threads = Executors.newFixedThreadPool(n);
        try {
            for (int round = 0; round < 5; round++) {
                CountDownLatch go = new CountDownLatch(1);
                CountDownLatch started = new CountDownLatch(n);
                List<Stream<String>> streams = new java.util.concurrent.CopyOnWriteArrayList<>();
                try {
                    for (int t = 0; t < n; t++) {
                        threads.submit(() -> {
                            go.await();
                            Stream<String> s = pool.stream("hc.silent_until_cancelled", null, String.class);
                            streams.add(s);
                            if ("first".equals(s.iterator().next())) {
                                started.countDown();
                            }
                            return null;
                        });
                    }
                    go.countDown();
                    boolean all = started.await(15, TimeUnit.SECONDS);
                    assertThat(all).as("round %d: streams started: %d of %d; %s", round, n - started.getCount(), n,
                            pool.stats()).isTrue();
                } finally {
                    streams.forEach(Stream::close);
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> inFlight(pool) == 0 && pool.stats().queuedCalls() == 0);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * Items of many fast streams, and replies of plain calls, all written by different threads of
     * one worker onto its one output. Every stream's items must arrive in the order they were
     * made, and none after the stream's end (which the host would take as a protocol violation).
     */
    @Test
    void itemsOfManyConcurrentStreamsArriveInOrderWhilePlainCallsRun() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1).maxInFlightPerWorker(64).handlerThreads(4)
                .callTimeout(Duration.ofSeconds(90)));
        long pid = TestPools.pids(pool).get(0);
        int streams = 16;
        int n = 20_000;
        ExecutorService threads = Executors.newFixedThreadPool(streams + 4);
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        try {
            List<Future<String>> readers = new ArrayList<>();
            for (int t = 0; t < streams; t++) {
                readers.add(threads.submit(() -> {
                    int expected = 0;
                    try (Stream<Integer> s = pool.stream("s.count", Map.of("n", n), Integer.class,
                            StreamOptions.DEFAULTS.withWindow(8, 1 << 20))) {
                        Iterator<Integer> it = s.iterator();
                        while (it.hasNext()) {
                            int got = it.next();
                            if (got != expected) {
                                return "item " + got + " arrived where " + expected + " was due";
                            }
                            expected++;
                        }
                    }
                    return expected == n ? "ok" : "ended after " + expected + " of " + n + " items";
                }));
            }
            List<Future<?>> callers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                String big = "b".repeat(256 * 1024); // replies larger than the channel's buffer: its writer thread works
                callers.add(threads.submit(() -> {
                    for (int i = 0; !done.get(); i++) {
                        assertThat(pool.call("hc.fast", Map.of("i", i), Integer.class)).isEqualTo(i);
                        String value = i + big;
                        assertThat(pool.call("echo", Map.of("value", value), String.class)).isEqualTo(value);
                    }
                    return null;
                }));
            }
            List<String> outcomes = new ArrayList<>();
            for (Future<String> r : readers) {
                outcomes.add(r.get(90, TimeUnit.SECONDS));
            }
            done.set(true);
            for (Future<?> c : callers) {
                c.get(30, TimeUnit.SECONDS);
            }
            assertThat(outcomes).allSatisfy(o -> assertThat(o).isEqualTo("ok"));
        } finally {
            done.set(true);
            threads.shutdownNow();
        }
        assertThat(TestPools.pids(pool)).containsExactly(pid);
    }

    @Test
    void manyThreadsStreamingFromOneSessionTakeTurnsWholeStreamsAtATime() throws Exception {
        PythonPool pool = pools.start(hostile().workers(2).callTimeout(Duration.ofSeconds(60)));
        int threads = 8;
        int n = 25;
        try (PythonSession session = pool.newSession()) {
            ExecutorService exec = Executors.newFixedThreadPool(threads);
            try {
                List<Future<List<Integer>>> all = new ArrayList<>();
                CountDownLatch go = new CountDownLatch(1);
                for (int t = 0; t < threads; t++) {
                    all.add(exec.submit(() -> {
                        go.await();
                        try (Stream<Integer> s = session.stream("s.session_items", Map.of("n", n), Integer.class,
                                StreamOptions.DEFAULTS.withWindow(3, 1 << 20))) {
                            return s.toList();
                        }
                    }));
                }
                go.countDown();
                List<Integer> firsts = new ArrayList<>();
                for (Future<List<Integer>> f : all) {
                    List<Integer> items = f.get(60, TimeUnit.SECONDS);
                    assertThat(items).hasSize(n);
                    for (int i = 1; i < n; i++) {
                        assertThat(items.get(i)).as("one stream at a time in the session: no other stream's "
                                + "item in between").isEqualTo(items.get(0) + i);
                    }
                    firsts.add(items.get(0));
                }
                assertThat(firsts).allSatisfy(first -> assertThat((first - 1) % n).isZero());
            } finally {
                exec.shutdownNow();
            }
            assertThat(session.call("s.session_total", null, Integer.class)).isEqualTo(threads * n);
        }
    }

    @Test
    void oneThreadReadingTwoStreamsOfItsSessionAlternatelyTimesOutRatherThanHangs() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        try (PythonSession session = pool.newSession();
                Stream<Integer> a = session.stream("s.session_items", Map.of("n", 100), Integer.class,
                        StreamOptions.DEFAULTS.withWindow(2, 1 << 20).withTimeout(Duration.ofSeconds(30)));
                Stream<Integer> b = session.stream("s.session_items", Map.of("n", 100), Integer.class,
                        StreamOptions.DEFAULTS.withWindow(2, 1 << 20).withTimeout(Duration.ofMillis(1500)))) {
            Iterator<Integer> ia = a.iterator();
            Iterator<Integer> ib = b.iterator();
            assertThat(ia.next()).isEqualTo(1);
            // b waits in the strand behind a, which waits for credit that only reading a gives: a deadlock
            // the deadlines break.
            assertThatThrownBy(ib::next).isInstanceOf(CallTimeoutException.class);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0);
    }

    @Test
    void aStormOfStreamsClosedAsSoonAsOpenedLeavesNothingBehind() throws Exception {
        PythonPool pool = pools.start(hostile().workers(2));
        List<Long> pids = TestPools.pids(pool);
        for (int i = 0; i < 300; i++) {
            Stream<Integer> s = pool.stream("s.count", Map.of("n", 1_000_000), Integer.class,
                    StreamOptions.DEFAULTS.withWindow(2, 1 << 20));
            if (i % 3 == 0) {
                s.iterator().next();
            }
            s.close();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> inFlight(pool) == 0 && pool.stats().queuedCalls() == 0);
        assertThat(TestPools.pids(pool)).containsExactlyInAnyOrderElementsOf(pids);
        assertThat(pool.stats().restarts()).isZero();
    }

    // ---- items the worker cannot send --------------------------------------------------------

    @Test
    void itemsTheWorkerCannotSendFailTheStreamAfterTheItemsBeforeThem() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1).maxFrameBytes(64 * 1024));
        long pid = TestPools.pids(pool).get(0);
        for (String what : List.of("huge", "nan", "deep", "set", "circular")) {
            List<Object> got = new ArrayList<>();
            try (Stream<Object> s = pool.stream("hc.then_bad", Map.of("n", 3, "what", what, "size", 200_000),
                    Object.class)) {
                assertThatThrownBy(() -> s.forEach(got::add)).as(what).isInstanceOf(PythonException.class)
                        .hasMessageContaining("item 3");
            }
            assertThat(got).as(what).containsExactly(0, 1, 2);
        }
        assertThat(TestPools.pids(pool)).as("no bad item costs the worker").containsExactly(pid);
        assertThat(inFlight(pool)).isZero();
    }

    @Test
    void oddStringsNumbersAndBytesArriveIntact() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        try (Stream<JsonNode> s = pool.stream("hc.odd_items", null, JsonNode.class)) {
            List<JsonNode> items = s.toList();
            assertThat(items).hasSize(6);
            assertThat(items.get(0).asText()).isEqualTo("lone \ud800 surrogate");
            assertThat(items.get(1).get("bytes").binaryValue()).containsExactly(0xff, 0xfe, 0x00, 0x80);
            assertThat(items.get(2).get("k").get(2).asText()).isEqualTo("\uD83D\uDE00");
            assertThat(items.get(3).bigIntegerValue()).isEqualTo(java.math.BigInteger.TEN.pow(30));
            assertThat(items.get(5).asText()).isEmpty();
        }
    }

    /**
     * Python writes a lone surrogate (os.listdir and os.environ hold them for undecodable bytes) as
     * a JSON escape, which is valid JSON. In a dict key, the host's parser refuses it, calls the
     * reply broken and kills the worker: a result decides whether its worker lives.
     */
    @Test
    void aLoneSurrogateInAKeyDoesNotCostTheWorker() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        try {
            JsonNode plain = pool.call("hc.surrogate_key", null);
            assertThat(plain.path("name\udcff").asInt()).isEqualTo(1);
        } catch (PypoolException e) {
            assertThat(e).as("a plain result with a lone surrogate in a key").isNotInstanceOf(ProtocolException.class);
        }
        assertThat(TestPools.pids(pool)).as("the worker lives on after the plain result").containsExactly(pid);
        try (Stream<JsonNode> s = pool.stream("hc.surrogate_key_items", null, JsonNode.class)) {
            Iterator<JsonNode> it = s.iterator();
            assertThat(it.next().asText()).isEqualTo("before");
            try {
                assertThat(it.next().path("name\udcff").asInt()).isEqualTo(1);
            } catch (PypoolException e) {
                assertThat(e).as("a stream item with a lone surrogate in a key").isNotInstanceOf(ProtocolException.class);
            }
        }
        assertThat(TestPools.pids(pool)).as("the worker lives on after the item").containsExactly(pid);
    }

    // ---- generators that will not stop ---------------------------------------------------------

    @Test
    void aGeneratorThatYieldsAgainWhenClosedStillGivesItsSlotBack() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        Path marker = tmp.resolve("m");
        try (Stream<Integer> s = pool.stream("hc.ignores_exit", Map.of("marker", marker.toString()), Integer.class,
                StreamOptions.DEFAULTS.withWindow(2, 1 << 20))) {
            assertThat(s.limit(5).toList()).containsExactly(0, 1, 2, 3, 4);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> says(marker, "ignored") && inFlight(pool) == 0);
        assertThat(TestPools.pids(pool)).containsExactly(pid);
    }

    @Test
    void aGeneratorThatSwallowsCancelledFromCheckpointIsStoppedAnyway() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        Path marker = tmp.resolve("m");
        try (Stream<Integer> s = pool.stream("hc.swallows_checkpoint_stream", Map.of("marker", marker.toString()),
                Integer.class, StreamOptions.DEFAULTS.withWindow(2, 1 << 20))) {
            assertThat(s.limit(3).toList()).containsExactly(0, 1, 2);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0);
        assertThat(TestPools.pids(pool)).containsExactly(pid);
    }

    /**
     * The rule for a handler that ignores its cancel: its slot stays taken, and if it still runs a
     * grace period past the call's deadline its worker is retired and replaced. A stream whose
     * generator blocks forever between two items must fall under the same rule; otherwise the slot
     * is gone for the life of the worker.
     */
    @Test
    void aGeneratorBlockedPastItsDeadlineFallsUnderTheOverrunRule() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        try (Stream<String> s = pool.stream("hc.stuck_after_first", null, String.class,
                StreamOptions.DEFAULTS.withTimeout(Duration.ofMillis(1500)))) {
            Iterator<String> it = s.iterator();
            assertThat(it.next()).isEqualTo("first");
            assertThatThrownBy(it::hasNext).isInstanceOf(CallTimeoutException.class);
        }
        // Deadline 1.5 s + grace 1 s: well within 15 s the worker holding the stuck stream is replaced.
        await().atMost(Duration.ofSeconds(15)).until(() -> inFlight(pool) == 0);
        assertThat(TestPools.pids(pool)).doesNotContain(pid);
    }

    /**
     * A session's stream holds the session's strand until its worker answers it. A generator that
     * hangs in its finally block when closed must not make the session unusable for good: the
     * session's next call should get an answer or a typed failure, not wait out its own timeout.
     */
    @Test
    void aSessionStreamThatHangsWhenClosedDoesNotHoldTheSessionForever() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        Path marker = tmp.resolve("m");
        try (PythonSession session = pool.newSession()) {
            try (Stream<Integer> s = session.stream("hc.stuck_in_finally", Map.of("marker", marker.toString()),
                    Integer.class, StreamOptions.DEFAULTS.withTimeout(Duration.ofSeconds(2)).withWindow(2, 1 << 20))) {
                assertThat(s.iterator().next()).isZero();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> says(marker, "stuck"));
            CompletableFuture<Integer> next = session.callAsync("s.session_total", null, Integer.class,
                    CallOptions.timeout(Duration.ofSeconds(20)));
            Throwable outcome = null;
            try {
                next.get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                outcome = e.getCause();
            }
            assertThat(outcome).as("the session's next call after a closed stream whose generator hangs in finally")
                    .isNotInstanceOf(CallTimeoutException.class);
        }
    }

    @Test
    void anAsyncGeneratorThatSwallowsItsCancellationFallsUnderTheOverrunRule() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        Path marker = tmp.resolve("m");
        try (Stream<String> s = pool.stream("hc.async_ignores_cancel", Map.of("marker", marker.toString()),
                String.class, StreamOptions.DEFAULTS.withTimeout(Duration.ofMillis(1500)))) {
            Iterator<String> it = s.iterator();
            assertThat(it.next()).isEqualTo("first");
            assertThatThrownBy(it::hasNext).isInstanceOf(CallTimeoutException.class);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> says(marker, "swallowed"));
        await().atMost(Duration.ofSeconds(15)).until(() -> inFlight(pool) == 0);
        assertThat(TestPools.pids(pool)).doesNotContain(pid);
    }

    // ---- generators that attack their own process ----------------------------------------------

    @Test
    void aGeneratorThatForksMidStreamDeliversOnlyItsOwnItems() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        try (Stream<JsonNode> s = pool.stream("hc.fork_midstream", Map.of("n", 50), JsonNode.class)) {
            List<JsonNode> items = s.toList();
            assertThat(items).hasSize(50);
            for (int i = 0; i < 50; i++) {
                assertThat(items.get(i).get("i").asInt()).isEqualTo(i);
                assertThat(items.get(i).get("pid").asLong()).as("from the worker, not its child").isEqualTo(pid);
            }
        }
        assertThat(pool.call("add", List.of(2, 3), Integer.class)).isEqualTo(5);
        assertThat(TestPools.pids(pool)).containsExactly(pid);
    }

    @Test
    void aGeneratorThatDiesLeavingAChildHoldingItsPipesFailsTheStreamPromptly() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        List<Integer> got = new ArrayList<>();
        long start = System.nanoTime();
        try (Stream<Integer> s = pool.stream("hc.fork_child_then_die", Map.of("n", 3), Integer.class)) {
            assertThatThrownBy(() -> s.forEach(got::add)).isInstanceOf(WorkerCrashedException.class);
        }
        assertThat(got).containsExactly(0, 1, 2);
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(20);
        await().atMost(Duration.ofSeconds(30)).until(() -> TestPools.allReady(pool, 1) && !TestPools.pids(pool).contains(pid));
        assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
    }

    @Test
    void aGeneratorThatClosesEveryDescriptorFailsTheStreamAndTheWorkerIsReplaced() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        long pid = TestPools.pids(pool).get(0);
        List<Integer> got = new ArrayList<>();
        try (Stream<Integer> s = pool.stream("hc.close_fds", Map.of("n", 3), Integer.class)) {
            assertThatThrownBy(() -> s.forEach(got::add)).isInstanceOf(PypoolException.class);
        }
        assertThat(got).startsWith(0, 1, 2);
        await().atMost(Duration.ofSeconds(30)).until(() -> TestPools.allReady(pool, 1) && !TestPools.pids(pool).contains(pid));
        assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
    }

    @Test
    void aGeneratorThatExitsMidStreamIsATypedFailure() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        for (String how : List.of("sys.exit", "keyboard")) {
            long pid = TestPools.pids(pool).get(0);
            List<Integer> got = new ArrayList<>();
            try (Stream<Integer> s = pool.stream("hc.exit_midstream", Map.of("n", 2, "how", how), Integer.class)) {
                assertThatThrownBy(() -> s.forEach(got::add)).as(how).isInstanceOf(PythonException.class);
            }
            assertThat(got).containsExactly(0, 1);
            assertThat(TestPools.pids(pool)).as("raising %s does not end the worker", how).containsExactly(pid);
        }
        List<Integer> got = new ArrayList<>();
        try (Stream<Integer> s = pool.stream("hc.exit_midstream", Map.of("n", 2, "how", "_exit"), Integer.class)) {
            assertThatThrownBy(() -> s.forEach(got::add)).isInstanceOf(WorkerCrashedException.class);
        }
        assertThat(got).containsExactly(0, 1);
    }

    // ---- publishers and hostile subscribers ----------------------------------------------------

    /**
     * Reactive Streams rule 1.3/1.9: onSubscribe comes first, and no signal may run concurrently
     * with another. A subscriber that takes its time in onSubscribe must not see onComplete (or
     * onNext) on another thread before onSubscribe has returned.
     */
    @Test
    void aPublisherSignalsNothingWhileOnSubscribeStillRuns() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        AtomicReference<String> violation = new AtomicReference<>();
        CompletableFuture<Void> ended = new CompletableFuture<>();
        CountDownLatch terminal = new CountDownLatch(1);
        pool.publisher("s.count", Map.of("n", 0), Integer.class).subscribe(new Flow.Subscriber<Integer>() {
            private volatile boolean inOnSubscribe;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                inOnSubscribe = true;
                try {
                    // Slow set-up: by the time it ends, the empty stream has long ended in Python.
                    await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0);
                    terminal.await(2, TimeUnit.SECONDS); // a signal now would come while onSubscribe runs
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    inOnSubscribe = false;
                }
                s.request(1);
            }

            @Override
            public void onNext(Integer item) {
                check("onNext");
            }

            @Override
            public void onError(Throwable t) {
                check("onError");
                terminal.countDown();
                ended.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                check("onComplete");
                terminal.countDown();
                ended.complete(null);
            }

            private void check(String signal) {
                if (inOnSubscribe) {
                    violation.compareAndSet(null, signal + " on " + Thread.currentThread().getName()
                            + " while onSubscribe was still running");
                }
            }
        });
        assertThat(ended).succeedsWithin(Duration.ofSeconds(20));
        assertThat(violation.get()).isNull();
    }

    @Test
    void aSubscriberThatThrowsAnErrorFromOnNextCancelsTheStream() throws Exception {
        // The Error ends up uncaught on a callback thread: a thread of our own swallows it, so that
        // no other test's awaits see it.
        ExecutorService callbacks = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "quiet-callbacks");
            t.setDaemon(true);
            t.setUncaughtExceptionHandler((thread, e) -> {});
            return t;
        });
        PythonPool pool = pools.start(hostile().workers(1).callbackExecutor(callbacks));
        Path marker = tmp.resolve("m");
        pool.publisher("s.marked", Map.of("n", 1_000_000, "marker", marker.toString()), Integer.class,
                StreamOptions.DEFAULTS.withWindow(2, 1 << 20).withTimeout(Duration.ofSeconds(60)))
                .subscribe(new Flow.Subscriber<Integer>() {
                    @Override
                    public void onSubscribe(Flow.Subscription s) {
                        s.request(Long.MAX_VALUE);
                    }

                    @Override
                    public void onNext(Integer item) {
                        if (item == 3) {
                            throw new AssertionError("a failed assertion in a subscriber"); // an Error, not a RuntimeException
                        }
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onComplete() {}
                });
        // As with a RuntimeException from onNext: the stream is cancelled and its generator closed,
        // long before the stream's 60 s deadline.
        await().atMost(Duration.ofSeconds(10)).until(() -> says(marker, "closed after"));
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0);
        callbacks.shutdownNow();
    }

    @Test
    void aSubscriberThatThrowsARuntimeExceptionFromOnNextCancelsTheStream() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        Path marker = tmp.resolve("m");
        pool.publisher("s.marked", Map.of("n", 1_000_000, "marker", marker.toString()), Integer.class,
                StreamOptions.DEFAULTS.withWindow(2, 1 << 20)).subscribe(new Flow.Subscriber<Integer>() {
                    @Override
                    public void onSubscribe(Flow.Subscription s) {
                        s.request(Long.MAX_VALUE);
                        s.request(Long.MAX_VALUE); // demand saturates, never overflows
                    }

                    @Override
                    public void onNext(Integer item) {
                        if (item == 3) {
                            throw new IllegalStateException("subscriber bug");
                        }
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onComplete() {}
                });
        await().atMost(Duration.ofSeconds(10)).until(() -> says(marker, "closed after"));
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0);
    }

    /**
     * Rule 2.13: a subscriber that throws from onSubscribe is to be treated as cancelled. The
     * stream it would have read must not run on, holding a slot, until its deadline.
     */
    @Test
    void aSubscriberThatThrowsFromOnSubscribeLeavesNoStreamRunning() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        Path marker = tmp.resolve("m");
        Flow.Publisher<Integer> p = pool.publisher("s.marked", Map.of("n", 1_000_000, "marker", marker.toString()),
                Integer.class, StreamOptions.DEFAULTS.withWindow(2, 1 << 20).withTimeout(Duration.ofSeconds(60)));
        try {
            p.subscribe(new Flow.Subscriber<Integer>() {
                @Override
                public void onSubscribe(Flow.Subscription s) {
                    throw new IllegalStateException("subscriber failed to set up");
                }

                @Override
                public void onNext(Integer item) {}

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onComplete() {}
            });
        } catch (IllegalStateException expectedOrNot) {
            // Rule 1.9 wants subscribe to return normally; either way the stream must not live on.
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(pool) == 0);
    }

    @Test
    void requestZeroIsAnErrorThatCancelsTheStream() throws Exception {
        PythonPool pool = pools.start(hostile().workers(1));
        Path marker = tmp.resolve("m");
        CompletableFuture<Throwable> error = new CompletableFuture<>();
        ConcurrentLinkedQueue<Integer> got = new ConcurrentLinkedQueue<>();
        pool.publisher("s.marked", Map.of("n", 1_000_000, "marker", marker.toString()), Integer.class,
                StreamOptions.DEFAULTS.withWindow(2, 1 << 20)).subscribe(new Flow.Subscriber<Integer>() {
                    private Flow.Subscription sub;

                    @Override
                    public void onSubscribe(Flow.Subscription s) {
                        sub = s;
                        s.request(2);
                    }

                    @Override
                    public void onNext(Integer item) {
                        got.add(item);
                        if (item == 1) {
                            sub.request(0);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        error.complete(t);
                    }

                    @Override
                    public void onComplete() {
                        error.complete(null);
                    }
                });
        assertThat(error.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalArgumentException.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> says(marker, "closed after") && inFlight(pool) == 0);
        assertThat(got).containsExactly(0, 1);
    }
}
