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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Streamed results: Python generators as Java streams and publishers, with credit, deadlines and failures. */
class StreamsTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path tmp;

    private PythonPool onePool() {
        return pools.start(TestPools.builder().workers(1));
    }

    @Test
    void streamsOfZeroOneAndAHundredThousandItems() throws Exception {
        PythonPool pool = onePool();
        try (Stream<Integer> s = pool.stream("s.count", Map.of("n", 0), Integer.class)) {
            assertThat(s.toList()).isEmpty();
        }
        try (Stream<Integer> s = pool.stream("s.count", Map.of("n", 1), Integer.class)) {
            assertThat(s.toList()).containsExactly(0);
        }
        long[] seen = {0, 0};
        try (Stream<Integer> s = pool.stream("s.count", Map.of("n", 100_000), Integer.class)) {
            s.forEach(i -> {
                assertThat(i).isEqualTo((int) seen[0]); // in order, none lost, none twice
                seen[0]++;
                seen[1] += i;
            });
        }
        assertThat(seen[0]).isEqualTo(100_000);
        assertThat(seen[1]).isEqualTo(100_000L * 99_999 / 2);
    }

    @Test
    void aSlowConsumerKeepsTheGeneratorWithinTheWindow() throws Exception {
        PythonPool pool = onePool();
        int window = 8;
        int n = 200;
        try (Stream<JsonNode> s = pool.stream("s.tracked", Map.of("n", n), JsonNode.class,
                StreamOptions.DEFAULTS.withWindow(window, 1 << 20))) {
            Iterator<JsonNode> it = s.iterator();
            for (int consumed = 1; consumed <= 40; consumed++) {
                assertThat(it.next().get("i").asInt()).isEqualTo(consumed - 1);
                if (consumed % 10 == 0) {
                    int taken = consumed;
                    // The consumer pauses: the generator may fill the window, never more.
                    await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(
                            () -> pool.call("s.produced", null, Integer.class) <= taken + window);
                    assertThat(pool.call("s.produced", null, Integer.class)).isGreaterThan(taken);
                }
            }
            int rest = 0;
            while (it.hasNext()) {
                assertThat(it.next().get("i").asInt()).isEqualTo(40 + rest);
                rest++;
            }
            assertThat(rest).isEqualTo(n - 40);
        }
    }

    @Test
    void theByteWindowBoundsLargeItems() throws Exception {
        PythonPool pool = onePool();
        int size = 100_000;
        try (Stream<JsonNode> s = pool.stream("s.tracked", Map.of("n", 100, "size", size), JsonNode.class,
                StreamOptions.DEFAULTS.withWindow(1000, 3L * size))) {
            Iterator<JsonNode> it = s.iterator();
            it.next();
            // ~3 items' worth of bytes, one of which may overdraw: the item count window (1000) never comes into it.
            await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(
                    () -> pool.call("s.produced", null, Integer.class) <= 1 + 4);
            long count = 1;
            while (it.hasNext()) {
                it.next();
                count++;
            }
            assertThat(count).isEqualTo(100);
        }
    }

    @Test
    void closingAfterThreeItemsStopsTheGenerator() throws Exception {
        PythonPool pool = onePool();
        Path marker = tmp.resolve("marker");
        try (Stream<Integer> s = pool.stream("s.marked", Map.of("n", 100_000, "marker", marker.toString()),
                Integer.class, StreamOptions.DEFAULTS.withWindow(2, 1 << 20))) {
            assertThat(s.limit(3).toList()).containsExactly(0, 1, 2);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(marker) && !Files.readString(marker).isEmpty());
        String how = Files.readString(marker);
        assertThat(how).startsWith("closed after ");
        assertThat(Integer.parseInt(how.substring("closed after ".length()))).isBetween(3, 3 + 2 + 1);
        assertThat(pool.call("add", List.of(1, 2), Integer.class)).as("the worker serves on").isEqualTo(3);
    }

    @Test
    void aStreamDroppedWithoutClosingIsCancelledOnceUnreachable() throws Exception {
        PythonPool pool = onePool();
        Path marker = tmp.resolve("dropped");
        takeOneAndDrop(pool, marker);
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            System.gc();
            return Files.exists(marker) && Files.readString(marker).startsWith("closed after");
        });
    }

    private static void takeOneAndDrop(PythonPool pool, Path marker) {
        Stream<Integer> s = pool.stream("s.marked", Map.of("n", 100_000, "marker", marker.toString()), Integer.class,
                StreamOptions.DEFAULTS.withWindow(2, 1 << 20));
        assertThat(s.iterator().next()).isZero();
    }

    @Test
    void aStreamWaitingOnItsConsumerDoesNotMakeTheWorkerLookHung() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).healthCheckInterval(Duration.ofMillis(100)));
        try (Stream<Integer> s = pool.stream("s.count", Map.of("n", 10), Integer.class,
                StreamOptions.DEFAULTS.withWindow(2, 1 << 20))) {
            Iterator<Integer> it = s.iterator();
            assertThat(it.next()).isZero();
            // The consumer dawdles for many health checks: the worker waits on Java, it is not hung.
            await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(5))
                    .until(() -> pool.health().status() == PoolHealth.Status.HEALTHY);
            int rest = 0;
            while (it.hasNext()) {
                it.next();
                rest++;
            }
            assertThat(rest).isEqualTo(9);
        }
    }

    @Test
    void aFailureArrivesAfterTheItemsBeforeIt() throws Exception {
        PythonPool pool = onePool();
        List<Integer> got = new ArrayList<>();
        try (Stream<Integer> s = pool.stream("s.fail_after", Map.of("n", 5), Integer.class)) {
            assertThatThrownBy(() -> s.forEach(got::add))
                    .isInstanceOf(PythonException.class)
                    .hasMessageContaining("failed after 5 items")
                    .satisfies(e -> assertThat(((PythonException) e).pythonType()).isEqualTo("ValueError"));
        }
        assertThat(got).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void asyncGeneratorsStreamToo() throws Exception {
        PythonPool pool = onePool();
        try (Stream<JsonNode> s = pool.stream("s.async_count", Map.of("n", 500), JsonNode.class)) {
            assertThat(s.map(n -> n.get("i").asInt()).toList()).hasSize(500).startsWith(0, 1, 2).endsWith(499);
        }
    }

    record Blob(int i, byte[] data) {}

    @Test
    void itemsCarryRawBytes() throws Exception {
        PythonPool pool = onePool();
        try (Stream<Blob> s = pool.stream("s.blobs", Map.of("n", 5, "size", 300_000), Blob.class)) {
            List<Blob> blobs = s.toList();
            assertThat(blobs).hasSize(5);
            for (Blob b : blobs) {
                assertThat(b.data()).hasSize(300_000);
                assertThat(b.data()[0]).isEqualTo((byte) b.i());
                assertThat(b.data()[299_999]).isEqualTo((byte) b.i());
            }
        }
    }

    @Test
    void aHandlerThatReturnsNoIteratorIsATypedError() throws Exception {
        PythonPool pool = onePool();
        try (Stream<Integer> s = pool.stream("s.not_a_generator", null, Integer.class)) {
            assertThatThrownBy(s::toList).isInstanceOf(PythonException.class).hasMessageContaining("s.not_a_generator");
        }
        assertThat(pool.call("add", List.of(2, 2), Integer.class)).isEqualTo(4);
    }

    @Test
    void aPlainCallOfAGeneratorGetsTheListOfItsItems() throws Exception {
        PythonPool pool = onePool();
        assertThat(pool.call("s.count", Map.of("n", 4), int[].class)).containsExactly(0, 1, 2, 3);
    }

    @Test
    void theDeadlineCoversTheWholeStreamAndTheWorkerSurvivesIt() throws Exception {
        PythonPool pool = onePool();
        long pid = TestPools.pids(pool).get(0);
        List<Integer> got = new ArrayList<>();
        try (Stream<Integer> s = pool.stream("s.count", Map.of("n", 10_000, "delay_ms", 10), Integer.class,
                StreamOptions.DEFAULTS.withTimeout(Duration.ofMillis(400)))) {
            assertThatThrownBy(() -> s.forEach(got::add)).isInstanceOf(CallTimeoutException.class);
        }
        assertThat(got).isNotEmpty().hasSizeLessThan(100);
        // The handler was told to stop at its next item: the slot comes back and the worker stays.
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.stats().workers().get(0).inFlight() == 0);
        assertThat(TestPools.pids(pool)).containsExactly(pid);
    }

    @Test
    void anIdleTimeoutFailsAStreamThatStopsSending() throws Exception {
        PythonPool pool = onePool();
        List<String> got = new ArrayList<>();
        try (Stream<String> s = pool.stream("s.then_silent", Map.of("sleep_s", 3), String.class,
                StreamOptions.DEFAULTS.withIdleTimeout(Duration.ofMillis(300)))) {
            assertThatThrownBy(() -> s.forEach(got::add)).isInstanceOf(CallTimeoutException.class)
                    .hasMessageContaining("idle timeout");
        }
        assertThat(got).containsExactly("first");
    }

    @Test
    void aSessionsStreamHoldsItsStrandUntilItEnds() throws Exception {
        PythonPool pool = onePool();
        try (PythonSession session = pool.newSession()) {
            CompletableFuture<Integer> total;
            try (Stream<Integer> s = session.stream("s.session_items", Map.of("n", 5), Integer.class,
                    StreamOptions.DEFAULTS.withWindow(1, 1 << 20))) {
                Iterator<Integer> it = s.iterator();
                assertThat(it.next()).isEqualTo(1);
                total = session.callAsync("s.session_total", null, Integer.class);
                await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> !total.isDone());
                List<Integer> rest = new ArrayList<>();
                it.forEachRemaining(rest::add);
                assertThat(rest).containsExactly(2, 3, 4, 5);
            }
            assertThat(total.get()).as("ran after every item of the stream").isEqualTo(5);
        }
    }

    @Test
    void aWorkerDyingMidStreamFailsItAfterTheItemsDelivered() throws Exception {
        PythonPool pool = onePool();
        List<Integer> got = new ArrayList<>();
        try (Stream<Integer> s = pool.stream("s.die_after", Map.of("n", 3), Integer.class,
                StreamOptions.DEFAULTS.asIdempotent())) {
            assertThatThrownBy(() -> s.forEach(got::add)).isInstanceOf(WorkerCrashedException.class);
        }
        assertThat(got).as("an idempotent stream is not retried once it delivered items").containsExactly(0, 1, 2);
    }

    @Test
    void anIdempotentStreamIsRetriedBeforeItsFirstItem() throws Exception {
        PythonPool pool = onePool();
        Path marker = tmp.resolve("died");
        try (Stream<String> s = pool.stream("s.die_at_once", Map.of("marker", marker.toString()), String.class,
                StreamOptions.DEFAULTS.asIdempotent())) {
            assertThat(s.toList()).containsExactly("after the retry");
        }
        Path marker2 = tmp.resolve("died2");
        try (Stream<String> s = pool.stream("s.die_at_once", Map.of("marker", marker2.toString()), String.class)) {
            assertThatThrownBy(s::toList).as("not idempotent: not retried").isInstanceOf(WorkerCrashedException.class);
        }
    }

    @Test
    void aPublisherDeliversWhatItsSubscriberRequests() throws Exception {
        PythonPool pool = onePool();
        Collector<Integer> one = new Collector<>(1);
        pool.publisher("s.count", Map.of("n", 1000), Integer.class).subscribe(one);
        assertThat(one.done.get(30, java.util.concurrent.TimeUnit.SECONDS)).containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, 1000).boxed().collect(Collectors.toList()));
        Collector<Integer> none = new Collector<>(5);
        pool.publisher("s.count", Map.of("n", 0), Integer.class).subscribe(none);
        assertThat(none.done.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEmpty();
        Collector<Integer> failing = new Collector<>(10);
        pool.publisher("s.fail_after", Map.of("n", 2), Integer.class).subscribe(failing);
        assertThat(failing.done).failsWithin(Duration.ofSeconds(10)).withThrowableThat()
                .havingRootCause().isInstanceOf(PythonException.class);
        assertThat(failing.items).containsExactly(0, 1);
    }

    @Test
    void cancellingASubscriptionStopsTheGenerator() throws Exception {
        PythonPool pool = onePool();
        Path marker = tmp.resolve("cancelled");
        AtomicReference<Flow.Subscription> sub = new AtomicReference<>();
        List<Integer> got = new CopyOnWriteArrayList<>();
        pool.publisher("s.marked", Map.of("n", 100_000, "marker", marker.toString()), Integer.class,
                StreamOptions.DEFAULTS.withWindow(2, 1 << 20)).subscribe(new Flow.Subscriber<>() {
                    @Override
                    public void onSubscribe(Flow.Subscription s) {
                        sub.set(s);
                        s.request(3);
                    }

                    @Override
                    public void onNext(Integer item) {
                        got.add(item);
                        if (got.size() == 3) {
                            sub.get().cancel();
                        }
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onComplete() {}
                });
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(marker) && Files.readString(marker).startsWith("closed"));
        assertThat(got).containsExactly(0, 1, 2);
    }

    @Test
    void aPublisherTakesOneSubscriber() throws Exception {
        PythonPool pool = onePool();
        Flow.Publisher<Integer> p = pool.publisher("s.count", Map.of("n", 2), Integer.class);
        Collector<Integer> first = new Collector<>(10);
        Collector<Integer> second = new Collector<>(10);
        p.subscribe(first);
        p.subscribe(second);
        assertThat(first.done).succeedsWithin(Duration.ofSeconds(10));
        assertThat(second.done).failsWithin(Duration.ofSeconds(1)).withThrowableThat()
                .havingRootCause().isInstanceOf(IllegalStateException.class);
    }

    /** Requests {@code batch} items at a time and collects them. */
    static final class Collector<T> implements Flow.Subscriber<T> {
        final List<T> items = new CopyOnWriteArrayList<>();
        final CompletableFuture<List<T>> done = new CompletableFuture<>();
        private final int batch;
        private Flow.Subscription subscription;
        private int left;

        Collector(int batch) {
            this.batch = batch;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            left = batch;
            s.request(batch);
        }

        @Override
        public void onNext(T item) {
            items.add(item);
            if (--left == 0) {
                left = batch;
                subscription.request(batch);
            }
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            done.complete(List.copyOf(items));
        }
    }
}
