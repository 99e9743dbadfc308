package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import io.pypool.testkit.PypoolExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class QueueAndDeadlineTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path tmp;

    @Test
    void fullQueueRejectsAtOnceWithPoolSaturated() throws Exception {
        Path gate = tmp.resolve("gate");
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxQueuedCalls(2));
        CompletableFuture<String> holder = pool.callAsync("t.wait_for_file", Map.of("path", gate.toString()), String.class);
        await().until(() -> pool.stats().busyWorkers() == 1);
        CompletableFuture<Integer> q1 = pool.callAsync("add", Map.of("a", 1, "b", 1), Integer.class);
        CompletableFuture<Integer> q2 = pool.callAsync("add", Map.of("a", 2, "b", 2), Integer.class);
        assertThat(pool.stats().queuedCalls()).isEqualTo(2);

        long before = System.nanoTime();
        assertThatThrownBy(() -> pool.call("add", Map.of("a", 3, "b", 3)))
                .isInstanceOf(PoolSaturatedException.class)
                .hasMessageContaining("2 calls already wait for a worker (maxQueuedCalls)")
                .hasMessageContaining("workers=1, ready=1, busy=1, queued=2");
        assertThat(Duration.ofNanos(System.nanoTime() - before)).as("rejected without waiting")
                .isLessThan(Duration.ofSeconds(5));

        Files.createFile(gate);
        assertThat(holder.get()).isEqualTo(gate.toString());
        assertThat(q1.get()).isEqualTo(2);
        assertThat(q2.get()).isEqualTo(4);
    }

    @Test
    void deadlineWhileWaitingForAWorkerNamesThePoolState() throws Exception {
        Path gate = tmp.resolve("gate");
        PythonPool pool = pools.start(TestPools.builder().name("tight").workers(1));
        CompletableFuture<String> holder = pool.callAsync("t.wait_for_file", Map.of("path", gate.toString()), String.class);
        await().until(() -> pool.stats().busyWorkers() == 1);
        CallTimeoutException e = org.assertj.core.api.Assertions.catchThrowableOfType(CallTimeoutException.class,
                () -> pool.call("add", Map.of("a", 1, "b", 1), Integer.class, CallOptions.timeout(Duration.ofMillis(300))));
        assertThat(e.whileExecuting()).isFalse();
        assertThat(e).hasMessageStartingWith("pool 'tight': call 'add' timed out after")
                .hasMessageContaining("waiting for a worker (workers=1, ready=1, busy=1, queued=");
        assertThat(pool.stats().queuedCalls()).as("the expired call left the queue").isZero();
        Files.createFile(gate);
        assertThat(holder.get()).isEqualTo(gate.toString());
        assertThat(pool.call("add", Map.of("a", 1, "b", 1), Integer.class)).isEqualTo(2);
    }

    @Test
    void deadlineWhileRunningNamesTheWorkerAndItIsReplaced() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().name("slowpoke").workers(1));
        long pid = TestPools.pids(pool).get(0);
        assertThatThrownBy(() -> pool.call("sleep", Map.of("ms", 60_000), Double.class,
                CallOptions.timeout(Duration.ofMillis(300))))
                .isInstanceOf(CallTimeoutException.class)
                .hasMessageContaining("running on worker w1 (pid " + pid + ")")
                .hasMessageContaining("late reply will reach nobody");
        await().atMost(Duration.ofSeconds(10)).until(() -> !TestPools.alive(pid));
        assertThat(pool.call("t.pid", null, Long.class)).isNotEqualTo(pid);
        assertThat(pool.stats().restarts()).isEqualTo(1);
    }

    @Test
    void asyncCallTimesOutByItsDeadline() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        CompletableFuture<Double> slow = pool.callAsync("sleep", Map.of("ms", 60_000), Double.class,
                CallOptions.timeout(Duration.ofMillis(200)));
        assertThatThrownBy(slow::get).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(CallTimeoutException.class).hasMessageContaining("timed out after");
    }

    @Test
    void lazyPoolServesCallsMadeBeforeAnyWorkerIsReady() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).minReadyWorkers(0));
        assertThat(pool.call("add", Map.of("a", 20, "b", 22), Integer.class)).isEqualTo(42);
        await().until(() -> pool.stats().workers().stream().allMatch(w -> w.state().equals("READY")));
    }
}
