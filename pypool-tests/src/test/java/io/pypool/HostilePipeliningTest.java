package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.testkit.PypoolExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Pipelining against workers whose handler thread is stuck while other things about them move. */
class HostilePipeliningTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path tmp;

    private static int inFlightOf(PythonPool pool, long pid) {
        return pool.stats().workers().stream().filter(w -> w.pid() == pid).mapToInt(PoolStats.Worker::inFlight).sum();
    }

    /**
     * A worker whose one handler thread runs a call known to be slow must be sent nothing more
     * (ARCHITECTURE: "A worker stuck on a slow call is sent nothing more"). An async call of that
     * worker answering is no sign that its handler thread moves: calls waiting in the pool must
     * not be pushed in behind the slow call, where they wait for it while another worker is free.
     */
    @Test
    void anAsyncAnswerDoesNotPushWaitingCallsBehindASlowSyncCall() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).callTimeout(Duration.ofSeconds(60)));
        Path done = Files.createFile(tmp.resolve("exists"));
        for (int i = 0; i < 3; i++) { // the pool learns the command takes ~20 ms: known slow
            pool.call("h.slow_then_wait", Map.of("path", done.toString()));
        }
        Path asyncOne = tmp.resolve("async-1");
        Path asyncTwo = tmp.resolve("async-2");
        Path slow = tmp.resolve("slow");
        Path other = tmp.resolve("other");
        List<CompletableFuture<JsonNode>> held = new ArrayList<>();
        try (PythonSession a = pool.session("a", SessionOptions.DEFAULTS.withMaxInFlight(8));
                PythonSession b = pool.session("b")) {
            held.add(a.callAsync("h.async_wait_for_file", Map.of("path", asyncOne.toString())));
            held.add(a.callAsync("h.async_wait_for_file", Map.of("path", asyncTwo.toString())));
            long workerA = await().until(() -> pool.stats().workers().stream().filter(w -> w.inFlight() == 2)
                    .map(PoolStats.Worker::pid).findFirst().orElse(null), pid -> pid != null);
            held.add(a.callAsync("h.slow_then_wait", Map.of("path", slow.toString())));
            await().until(() -> inFlightOf(pool, workerA) == 3);
            held.add(b.callAsync("t.wait_for_file", Map.of("path", other.toString())));
            long workerB = await().until(() -> pool.stats().workers().stream().filter(w -> w.pid() != workerA && w.inFlight() == 1)
                    .map(PoolStats.Worker::pid).findFirst().orElse(null), pid -> pid != null);

            // Both workers' handler threads are busy: these wait in the pool.
            List<CompletableFuture<JsonNode>> fast = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fast.add(pool.callAsync("t.echo", Map.of("nonce", "f" + i)));
            }
            await().until(() -> pool.stats().queuedCalls() == 4);

            Files.createFile(asyncOne); // an async call of worker A answers; its handler thread is still stuck
            await().until(() -> held.get(0).isDone());
            assertThat(pool.stats().queuedCalls()).as("calls still waiting in the pool after worker A's async answer "
                    + "(worker A now holds %d calls behind its slow one)", inFlightOf(pool, workerA) - 2).isEqualTo(4);
            Files.createFile(other);    // worker B is free now
            await().until(() -> held.get(3).isDone());

            // The fast calls should run on B now. Sent behind A's slow call, they wait for it.
            CompletableFuture.allOf(fast.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
            assertThat(fast).allSatisfy(f -> assertThat(f.join().get("pid").asLong()).isEqualTo(workerB));
        } finally {
            Files.createDirectories(tmp);
            for (Path p : List.of(asyncOne, asyncTwo, slow, other)) {
                if (!Files.exists(p)) {
                    Files.createFile(p);
                }
            }
        }
    }
}
