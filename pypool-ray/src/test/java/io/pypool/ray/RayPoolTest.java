package io.pypool.ray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pypool.PythonException;
import io.pypool.PythonPool;
import io.pypool.PythonSession;
import io.pypool.UnknownCommandException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A pool on Ray serves like a local one: calls, typed errors, sessions, big frames, streams. */
@Tag("ray")
@ExtendWith(RayTestCluster.class)
class RayPoolTest {

    @Test
    void callsSessionsAndTypedErrorsWorkOnActors() throws Exception {
        try (PythonPool pool = RayTestCluster.pool(RayTestCluster.backend().build()).build()) {
            assertThat(pool.call("add", List.of(2, 3), Integer.class)).isEqualTo(5);
            assertThat(pool.stats().workers()).allSatisfy(w -> assertThat(w.location()).startsWith("Ray actor"));

            @SuppressWarnings("unchecked")
            Map<String, Object> where = pool.call("where", null, Map.class);
            assertThat(where.get("node")).as("the worker knows its Ray node").isNotNull();

            assertThatThrownBy(() -> pool.call("no.such.command", null, Object.class)).isInstanceOf(UnknownCommandException.class);
            assertThatThrownBy(() -> pool.call("add", List.of("a", 1), Object.class)).isInstanceOf(PythonException.class);

            try (PythonSession session = pool.session("s1")) {
                ExecutorService threads = Executors.newFixedThreadPool(8);
                List<Future<?>> calls = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    calls.add(threads.submit(() -> session.call("count", Map.of("pause_ms", 2), Map.class)));
                }
                for (Future<?> f : calls) {
                    f.get();
                }
                threads.shutdown();
                @SuppressWarnings("unchecked")
                Map<String, Object> last = session.call("count", Map.of("pause_ms", 0), Map.class);
                assertThat(last.get("n")).as("one session's calls never overlapped, none was lost").isEqualTo(41);
            }
        }
    }

    @Test
    void framesMuchLargerThanAPipeBufferComeBackIntact() throws Exception {
        try (PythonPool pool = RayTestCluster.pool(RayTestCluster.backend().build()).build()) {
            byte[] big = pool.call("blob", Map.of("n", 5_000_000), byte[].class);
            assertThat(big).hasSize(5_000_000);
            for (int i = 0; i < big.length; i += 99_991) {
                assertThat(big[i] & 0xff).isEqualTo(i % 251);
            }
            byte[] sent = new byte[3_000_000];
            new java.util.Random(7).nextBytes(sent);
            assertThat(pool.call("echo", Map.of("value", sent), byte[].class)).isEqualTo(sent);
        }
    }

    @Test
    void anIdleWorkerStillAnswers() throws Exception {
        try (PythonPool pool = RayTestCluster.pool(RayTestCluster.backend().build()).workers(1).build()) {
            assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
            // The actor's long poll comes back empty after a second without output: several of those.
            java.util.concurrent.CountDownLatch idle = new java.util.concurrent.CountDownLatch(1);
            assertThat(idle.await(3_500, java.util.concurrent.TimeUnit.MILLISECONDS)).isFalse();
            assertThat(pool.call("add", List.of(2, 2), Integer.class, io.pypool.CallOptions.timeout(java.time.Duration.ofSeconds(10))))
                    .isEqualTo(4);
        }
    }

    @Test
    void streamsArriveInOrder() throws Exception {
        try (PythonPool pool = RayTestCluster.pool(RayTestCluster.backend().build()).build();
             var items = pool.stream("ticks", Map.of("n", 2000), Integer.class)) {
            List<Integer> got = items.toList();
            assertThat(got).hasSize(2000);
            for (int i = 0; i < got.size(); i++) {
                assertThat(got.get(i)).isEqualTo(i);
            }
        }
    }
}
