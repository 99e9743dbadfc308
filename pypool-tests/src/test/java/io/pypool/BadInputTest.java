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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
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

    /**
     * Each case: a fault command that makes the worker send something invalid, and what the
     * caller's ProtocolException must say about it. The call runs in a session, so that we know
     * which worker (pid) sent the bad bytes.
     */
    static Stream<Arguments> badOutput() {
        return Stream.of(
                Arguments.of("garbage on the channel (a stray print)", "fault.garbage",
                        Map.of("text", "Hello from a stray print\n"), "malformed frame: frame length"),
                Arguments.of("a frame over the size limit", "fault.oversized_frame", Map.of(),
                        "frame length 2147483632 is outside 12..1048588"),
                Arguments.of("a reply that is not JSON", "fault.invalid_json", Map.of(), "not valid JSON: {not json"),
                Arguments.of("a reply to an unknown request id", "fault.unknown_request", Map.of(),
                        "reply to unknown request id 987654321"));
    }

    @ParameterizedTest(name = "{0} ends only that worker")
    @MethodSource("badOutput")
    void badOutputFromAWorkerEndsOnlyThatWorker(String what, String faultCommand, Map<String, Object> args,
                                                String expectedMessage) throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).maxFrameBytes(1 << 20));
        try (PythonSession session = pool.newSession()) {
            long pid = session.call("t.remember", Map.of("key", "k", "value", 1)).get("pid").asLong();
            assertThatThrownBy(() -> session.call(faultCommand, args))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("(pid " + pid + ")")
                    .hasMessageContaining(expectedMessage);
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
        // One call per worker: the session's call waits in the pool, not in the worker's input.
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxInFlightPerWorker(1));
        try (PythonSession session = pool.newSession()) {
            CompletableFuture<JsonNode> busy = pool.callAsync("fault.echo", Map.of("nonce", "busy", "delay_ms", 300));
            await().until(() -> pool.stats().busyWorkers() == 1);
            CompletableFuture<JsonNode> queued = session.callAsync("counter.add", Map.of("by", 100));
            assertThat(queued.cancel(true)).isTrue();
            assertThat(pool.stats().queuedCalls()).isZero();
            busy.get();
            assertThat(session.call("counter.get", null).get("total").asInt()).as("the cancelled add never ran").isZero();
        }
    }
}
