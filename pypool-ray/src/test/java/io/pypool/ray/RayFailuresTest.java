package io.pypool.ray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pypool.PoolStats;
import io.pypool.PythonPool;
import io.pypool.PythonSession;
import io.pypool.WorkerCrashedException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Deaths on Ray look like local ones: a killed worker process or a killed actor is a
 * WorkerCrashedException for the calls it held, a session on it is restored on a new actor, and
 * nothing is left running after close() or after the driver JVM is killed.
 */
@Tag("ray")
@ExtendWith(RayTestCluster.class)
class RayFailuresTest {

    @Test
    void aKilledWorkerIsACrashAndItsSessionIsRestoredOnANewActor() throws Exception {
        try (PythonPool pool = RayTestCluster.pool(RayTestCluster.backend().build()).build();
             PythonSession session = pool.session("sturdy").onRestore("restore", Map.of("n", 100))) {
            long pid = ((Number) session.call("count", Map.of(), Map.class).get("pid")).longValue();
            String actorBefore = locationOf(pool, pid);
            CompletableFuture<Object> held = session.callAsync("sleep", Map.of("ms", 60_000), Object.class);
            await().until(() -> pool.stats().workers().stream().anyMatch(w -> w.pid() == pid && w.inFlight() > 0));
            Processes.signal(pid, "KILL");
            assertThatThrownBy(held::join).hasCauseInstanceOf(WorkerCrashedException.class)
                    .hasMessageContaining("killed by signal 9");
            await().until(() -> pool.stats().workers().stream().noneMatch(w -> w.pid() == pid));
            Map<?, ?> after = session.call("count", Map.of(), Map.class);
            assertThat(after.get("n")).as("the restore step ran on the new worker").isEqualTo(101);
            long newPid = ((Number) after.get("pid")).longValue();
            assertThat(newPid).isNotEqualTo(pid);
            assertThat(locationOf(pool, newPid)).isNotEqualTo(actorBefore);
        }
    }

    @Test
    void aKilledActorIsACrashAndThePoolReplacesIt() throws Exception {
        try (PythonPool pool = RayTestCluster.pool(RayTestCluster.backend().build()).workers(1).build()) {
            long worker = ((Number) pool.call("where", null, Map.class).get("pid")).longValue();
            long actor = Processes.parentOf(worker);
            assertThat(actor).as("the relay actor's process").isPositive();
            long child = pool.call("spawn_child", null, Long.class);
            CompletableFuture<Object> held = pool.callAsync("sleep", Map.of("ms", 60_000), Object.class);
            await().until(() -> pool.stats().workers().get(0).inFlight() > 0);
            Processes.signal(actor, "KILL");
            assertThatThrownBy(held::join).hasCauseInstanceOf(WorkerCrashedException.class)
                    .hasMessageContaining("Ray actor died");
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> Processes.assertNoneAlive(List.of(worker, child)));
            await().atMost(Duration.ofSeconds(60)).until(() -> pool.stats().workers().stream()
                    .anyMatch(w -> w.state().equals("READY")));
            assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
        }
    }

    @Test
    void closeLeavesNoActorWorkerOrHandlerChildBehind() throws Exception {
        List<Long> pids = new ArrayList<>();
        try (PythonPool pool = RayTestCluster.pool(RayTestCluster.backend().build()).workers(3).build()) {
            for (PoolStats.Worker w : pool.stats().workers()) {
                pids.add(w.pid());
                pids.add(Processes.parentOf(w.pid())); // its actor
            }
            pids.add(pool.call("spawn_child", null, Long.class));
            assertThat(pids).hasSize(7).allSatisfy(p -> assertThat(Processes.alive(p)).isTrue());
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> Processes.assertNoneAlive(pids));
    }

    /** The driver of {@link #aKilledDriverJvmLeavesNothingBehind}: a pool on Ray, then its pids, then it waits to be killed. */
    public static void main(String[] args) throws Exception {
        RayBackend backend = RayBackend.builder().address(args[0]).python(args[1]).numCpus(0).build();
        PythonPool pool = RayTestCluster.pool(backend).workers(2).build();
        for (PoolStats.Worker w : pool.stats().workers()) {
            System.out.println("pid " + w.pid());
            System.out.println("pid " + Processes.parentOf(w.pid()));
        }
        System.out.println("pid " + pool.call("spawn_child", null, Long.class));
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    @Test
    void aKilledDriverJvmLeavesNothingBehind() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        LocalRayCluster ray = RayTestCluster.cluster();
        Process driver = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                RayFailuresTest.class.getName(), ray.address(), ray.python())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<Long> pids = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(driver.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !line.equals("ready")) {
                if (line.startsWith("pid ")) {
                    pids.add(Long.parseLong(line.substring(4)));
                }
            }
            assertThat(pids).as("2 workers, their actors and a handler child").hasSize(5)
                    .allSatisfy(p -> assertThat(Processes.alive(p)).isTrue());
            driver.destroyForcibly(); // SIGKILL: no close(), no shutdown hook
            driver.waitFor();
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> Processes.assertNoneAlive(pids));
        } finally {
            driver.destroyForcibly();
        }
    }

    @Test
    void aWorkerNoNodeCanPlaceFailsTheStartNamingWhatItAskedFor() {
        long started = System.nanoTime();
        assertThatThrownBy(() -> RayTestCluster.pool(RayTestCluster.backend().resource("gpu_of_dreams", 1).build())
                .startupTimeout(Duration.ofSeconds(8)).build())
                .isInstanceOf(io.pypool.PoolStartupException.class)
                .hasMessageContaining("gpu_of_dreams=1.0");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
    }

    private static String locationOf(PythonPool pool, long pid) {
        return pool.stats().workers().stream().filter(w -> w.pid() == pid).findFirst().orElseThrow().location();
    }
}
