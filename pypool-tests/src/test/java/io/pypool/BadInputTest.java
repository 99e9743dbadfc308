package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import io.pypool.testkit.PypoolExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Whatever a worker sends, only that worker is lost: its callers get a typed error, the rest serve on. */
class BadInputTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    private static void assertWorkerReplacedAndOthersServe(PythonPool pool, long badPid) throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> !TestPools.alive(badPid));
        await().atMost(Duration.ofSeconds(30)).until(() -> TestPools.allReady(pool, 2));
        for (int i = 0; i < 10; i++) {
            assertThat(pool.call("add", Map.of("a", i, "b", 1), Integer.class)).isEqualTo(i + 1);
        }
    }

    private static long pidOfWorkerThatWillRun(PythonPool pool) throws Exception {
        return pool.call("t.pid", null, Long.class);
    }

    @Test
    void garbageOnTheProtocolChannelEndsOnlyThatWorker() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2));
        PythonSession session = pool.newSession();
        long pid = session.call("t.remember", Map.of("key", "k", "value", 1)).get("pid").asLong();
        assertThatThrownBy(() -> session.call("fault.garbage", Map.of("text", "Hello from a stray print\n")))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("malformed frame")
                .hasMessageContaining("'Hello from a str");
        assertWorkerReplacedAndOthersServe(pool, pid);
    }

    @Test
    void frameOverTheSizeLimitEndsOnlyThatWorker() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).maxFrameBytes(1 << 20));
        try (PythonSession session = pool.newSession()) {
            long pid = session.call("t.remember", Map.of("key", "k", "value", 1)).get("pid").asLong();
            assertThatThrownBy(() -> session.call("fault.oversized_frame", null))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("frame length 2147483632 is outside 12..1048588");
            assertWorkerReplacedAndOthersServe(pool, pid);
        }
    }

    @Test
    void replyThatIsNotJsonEndsOnlyThatWorker() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2));
        try (PythonSession session = pool.newSession()) {
            long pid = session.call("t.remember", Map.of("key", "k", "value", 1)).get("pid").asLong();
            assertThatThrownBy(() -> session.call("fault.invalid_json", null))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("not valid JSON: {not json");
            assertWorkerReplacedAndOthersServe(pool, pid);
        }
    }

    @Test
    void replyToAnUnknownRequestIdEndsOnlyThatWorker() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2));
        try (PythonSession session = pool.newSession()) {
            long pid = session.call("t.remember", Map.of("key", "k", "value", 1)).get("pid").asLong();
            assertThatThrownBy(() -> session.call("fault.unknown_request", null))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("reply to unknown request id 987654321");
            assertWorkerReplacedAndOthersServe(pool, pid);
        }
    }

    @Test
    void interruptedCallerGetsInterruptedExceptionAndTheLateReplyIsDropped() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        CountDownLatch finished = new CountDownLatch(1);
        Thread caller = new Thread(() -> {
            try {
                pool.call("fault.echo", Map.of("nonce", "abandoned", "delay_ms", 500));
                outcome.set(new AssertionError("the call returned"));
            } catch (Throwable t) {
                outcome.set(t);
            } finally {
                finished.countDown();
            }
        });
        caller.start();
        await().until(() -> pool.stats().busyWorkers() == 1);
        caller.interrupt();
        finished.await();
        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        for (int i = 0; i < 5; i++) {
            JsonNode reply = pool.call("fault.echo", Map.of("nonce", "mine-" + i));
            assertThat(reply.get("nonce").asText()).isEqualTo("mine-" + i);
        }
        await().until(() -> pool.stats().busyWorkers() == 0);
    }

    @Test
    void cancelledFutureReleasesItsSlotAndItsReplyReachesNobody() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        CompletableFuture<JsonNode> cancelled = pool.callAsync("fault.echo", Map.of("nonce", "gone", "delay_ms", 300));
        await().until(() -> pool.stats().busyWorkers() == 1);
        assertThat(cancelled.cancel(true)).isTrue();
        CompletableFuture<JsonNode> next = pool.callAsync("fault.echo", Map.of("nonce", "next"));
        assertThat(next.get().get("nonce").asText()).isEqualTo("next");
        await().until(() -> pool.stats().busyWorkers() == 0 && pool.stats().queuedCalls() == 0);
    }

    @Test
    void queuedCallCancelledBeforeItRanNeverRuns() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        try (PythonSession session = pool.newSession()) {
            CompletableFuture<JsonNode> busy = pool.callAsync("fault.echo", Map.of("nonce", "busy", "delay_ms", 300));
            await().until(() -> pool.stats().busyWorkers() == 1);
            CompletableFuture<JsonNode> queued = session.callAsync("counter.add", Map.of("by", 100));
            assertThat(queued.cancel(true)).isTrue();
            assertThat(pool.stats().queuedCalls()).isZero();
            busy.get();
            assertThat(session.call("counter.get", null).get("total").asInt()).as("the cancelled add never ran").isZero();
            assertThat(List.of(pool.stats().queuedCalls())).containsExactly(0);
        }
    }
}
