package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pypool.testkit.PypoolExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Cancelling calls: queued ones never run, running ones are told, and a cancel never costs a worker by itself. */
class CancellationTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path tmp;

    private static boolean says(Path marker, String text) throws Exception {
        return Files.exists(marker) && Files.readString(marker).startsWith(text);
    }

    @Test
    void aCancelledQueuedCallIsNeverSent() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxInFlightPerWorker(1));
        Path busy = tmp.resolve("busy");
        Path never = tmp.resolve("never");
        CompletableFuture<String> running = pool.callAsync("c.ignores_cancel",
                Map.of("sleep_s", 0.5, "marker", busy.toString()), String.class);
        CompletableFuture<String> queued = pool.callAsync("c.touch", Map.of("marker", never.toString()), String.class);
        await().until(() -> pool.stats().queuedCalls() == 1);
        assertThat(queued.cancel(true)).isTrue();
        assertThat(pool.stats().queuedCalls()).isZero();
        assertThat(running.get()).isEqualTo("finished");
        assertThat(pool.call("add", List.of(1, 1), Integer.class)).isEqualTo(2); // the worker took the next call
        assertThat(never).doesNotExist();
    }

    @Test
    void cancellingTheFutureOfARunningCallTellsItsHandler() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        long pid = TestPools.pids(pool).get(0);
        Path marker = tmp.resolve("m");
        CompletableFuture<String> f = pool.callAsync("c.until_cancelled", Map.of("marker", marker.toString()), String.class);
        await().until(() -> pool.stats().workers().get(0).inFlight() == 1);
        f.cancel(true);
        await().atMost(Duration.ofSeconds(10)).until(() -> says(marker, "cancelled"));
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.stats().workers().get(0).inFlight() == 0);
        assertThat(TestPools.pids(pool)).as("the worker that honoured the cancel serves on").containsExactly(pid);
        assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
    }

    @Test
    void interruptingABlockedCallerTellsTheHandler() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        Path marker = tmp.resolve("m");
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                pool.call("c.until_cancelled", Map.of("marker", marker.toString()), String.class);
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        caller.start();
        await().until(() -> pool.stats().workers().get(0).inFlight() == 1);
        caller.interrupt();
        caller.join(10_000);
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> says(marker, "cancelled"));
    }

    @Test
    void aTimedOutCallIsToldToStopAndItsWorkerStays() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        long pid = TestPools.pids(pool).get(0);
        Path marker = tmp.resolve("m");
        assertThatThrownBy(() -> pool.call("c.until_cancelled", Map.of("marker", marker.toString()), String.class,
                CallOptions.timeout(Duration.ofMillis(300)))).isInstanceOf(CallTimeoutException.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> says(marker, "cancelled"));
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.stats().workers().get(0).inFlight() == 0);
        assertThat(TestPools.pids(pool)).containsExactly(pid);
    }

    @Test
    void aHandlerThatIgnoresTheCancelKeepsItsSlotUntilItEnds() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        long pid = TestPools.pids(pool).get(0);
        Path marker = tmp.resolve("m");
        CompletableFuture<String> f = pool.callAsync("c.ignores_cancel",
                Map.of("sleep_s", 1.0, "marker", marker.toString()), String.class);
        await().until(() -> pool.stats().workers().get(0).inFlight() == 1);
        f.cancel(true);
        assertThatThrownBy(f::join).isInstanceOf(CancellationException.class);
        assertThat(pool.stats().workers().get(0).inFlight()).as("its slot is still taken").isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> says(marker, "finished"));
        assertThat(Files.readString(marker)).isEqualTo("finished, cancelled=True");
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.stats().workers().get(0).inFlight() == 0);
        assertThat(TestPools.pids(pool)).as("a cancel alone never costs a worker").containsExactly(pid);
    }

    @Test
    void aHandlerThatIgnoresTheCancelPastItsDeadlineMeetsTheOverrunRule() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        long pid = TestPools.pids(pool).get(0);
        CompletableFuture<String> f = pool.callAsync("c.ignores_cancel",
                Map.of("sleep_s", 60, "marker", tmp.resolve("m").toString()), String.class,
                CallOptions.timeout(Duration.ofSeconds(1)));
        await().until(() -> pool.stats().workers().get(0).inFlight() == 1);
        f.cancel(true);
        await().atMost(Duration.ofSeconds(20)).until(() -> !TestPools.pids(pool).contains(pid)
                && TestPools.allReady(pool, 1));
        assertThat(pool.call("add", List.of(2, 3), Integer.class)).isEqualTo(5);
    }

    @Test
    void cancellingAnAsyncHandlerCancelsItsTask() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        Path marker = tmp.resolve("m");
        CompletableFuture<String> f = pool.callAsync("c.async_until_cancelled", Map.of("marker", marker.toString()),
                String.class);
        await().until(() -> pool.stats().workers().get(0).inFlight() == 1);
        f.cancel(true);
        await().atMost(Duration.ofSeconds(10)).until(() -> says(marker, "cancelled"));
        await().atMost(Duration.ofSeconds(10)).until(() -> pool.stats().workers().get(0).inFlight() == 0);
    }
}
