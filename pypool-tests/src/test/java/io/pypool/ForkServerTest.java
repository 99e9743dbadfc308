package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.testkit.PypoolExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Workers forked from a template process, and the pool's fall back to spawning. */
class ForkServerTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path tmp;


    private static Set<Long> jvmChildren() {
        return ProcessHandle.current().children().map(ProcessHandle::pid).collect(Collectors.toSet());
    }

    @Test
    void workersAreForkedFromOneTemplateThatImportedTheModulesOnce() throws Exception {
        Path record = tmp.resolve("imports");
        PythonPool pool = pools.start(TestPools.builder().workers(3).handlerModules("pypool.examples", "fork_import_record")
                .environment("PYPOOL_TEST_IMPORT_RECORD", record.toString()));
        List<Long> workers = TestPools.pids(pool);
        Set<Long> templates = workers.stream().map(TestPools::parentOf).collect(Collectors.toSet());
        assertThat(templates).as("one parent for all workers").hasSize(1);
        long template = templates.iterator().next();
        assertThat(jvmChildren()).as("the template is the JVM's child, the workers are not").contains(template)
                .doesNotContainAnyElementsOf(workers);
        assertThat(Files.readAllLines(record)).as("imported once, in the template").containsExactly(Long.toString(template));
        assertThat(pool.call("fr.parent", null, Long.class)).isEqualTo(template);
    }

    @Test
    void oneWorkerPoolForksToo() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        assertThat(jvmChildren()).doesNotContain(TestPools.pids(pool).get(0));
    }

    @Test
    void sessionsKeepTheirStateOnForkedWorkers() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2));
        try (PythonSession a = pool.session("a"); PythonSession b = pool.session("b")) {
            for (int i = 0; i < 3; i++) {
                a.call("t.session_rmw", Map.of("pause_ms", 0), Integer.class);
            }
            b.call("t.session_rmw", Map.of("pause_ms", 0), Integer.class);
            assertThat(a.call("t.session_rmw", Map.of("pause_ms", 0), Integer.class)).isEqualTo(4);
            assertThat(b.call("t.session_rmw", Map.of("pause_ms", 0), Integer.class)).isEqualTo(2);
        }
    }

    @Test
    void killedWorkerIsSeenDeadAtOnceWithItsSignalAndIsReplacedByAFork() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).callTimeout(Duration.ofSeconds(60)));
        long victim = TestPools.pids(pool).get(0);
        long template = TestPools.parentOf(victim);
        CompletableFuture<JsonNode> running = pool.callAsync("t.wait_for_file", Map.of("path", tmp.resolve("never").toString()));
        await().until(() -> pool.stats().busyWorkers() == 1);
        TestPools.signal(victim, "KILL");
        // The exit status comes from the template's waitpid: a non-child seen by polling has none.
        WorkerCrashedException e = catchThrowableOfType(WorkerCrashedException.class, () -> {
            try {
                running.join();
            } catch (java.util.concurrent.CompletionException c) {
                throw c.getCause();
            }
        });
        assertThat(e).hasMessageContaining("was killed by signal 9 (SIGKILL)");
        assertThat(e.exitCode()).hasValue(137);
        await().until(() -> TestPools.allReady(pool, 1));
        long replacement = TestPools.pids(pool).get(0);
        assertThat(replacement).isNotEqualTo(victim);
        assertThat(TestPools.parentOf(replacement)).as("forked by the same template").isEqualTo(template);
        assertThat(pool.call("add", List.of(2, 3), Integer.class)).isEqualTo(5);
    }

    @Test
    void recycledWorkersAreForkedAgain() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).recycleAfterCalls(2));
        long first = TestPools.pids(pool).get(0);
        long template = TestPools.parentOf(first);
        for (int i = 0; i < 3; i++) {
            pool.call("add", List.of(i, 1), Integer.class);
        }
        await().until(() -> TestPools.allReady(pool, 1) && TestPools.pids(pool).get(0) != first);
        assertThat(TestPools.parentOf(TestPools.pids(pool).get(0))).isEqualTo(template);
    }

    @Test
    void moduleThatLeavesAThreadRunningMakesThePoolSpawnAndSayWhyOnce() throws Exception {
        try (LogLines log = new LogLines("threaded")) {
            PythonPool pool = pools.start(TestPools.builder().name("threaded").workers(2)
                    .handlerModules("pypool.examples", "fork_unsafe_thread"));
            assertThat(jvmChildren()).as("spawned workers are the JVM's children").containsAll(TestPools.pids(pool));
            assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
            assertThat(log.lines()).filteredOn(l -> l.contains("not forked")).singleElement().satisfies(l ->
                    assertThat(l).startsWith("WARN").contains("left-running").contains("thread"));
        }
    }

    @Test
    void forkServerOffSpawnsEveryWorker() throws Exception {
        Path record = tmp.resolve("imports");
        PythonPool pool = pools.start(TestPools.builder().workers(2).forkServer(false)
                .handlerModules("pypool.examples", "fork_import_record")
                .environment("PYPOOL_TEST_IMPORT_RECORD", record.toString()));
        List<Long> workers = TestPools.pids(pool);
        assertThat(jvmChildren()).containsAll(workers);
        assertThat(Files.readAllLines(record)).as("each worker imported for itself")
                .containsExactlyInAnyOrderElementsOf(workers.stream().map(String::valueOf).toList());
    }

    @Test
    void importFailureInTheTemplateFailsTheBuildAsASpawnedWorkerWould() {
        for (boolean fork : List.of(true, false)) {
            String name = "broken-" + fork;
            assertThatThrownBy(() -> TestPools.builder().name(name).forkServer(fork).handlerModules("broken_handlers")
                    .workers(2).build())
                    .as("forkServer(%s)", fork)
                    .isInstanceOf(PoolStartupException.class)
                    .hasMessageContaining("pool '" + name + "'")
                    .hasMessageContaining("failed to start: exited with code 3")
                    .hasMessageContaining("importing handler module 'broken_handlers' failed")
                    .hasMessageContaining("ModuleNotFoundError");
            assertThat(TestPools.workersNamed(name)).isEmpty();
        }
    }

    @Test
    void closingThePoolEndsTheTemplate() throws Exception {
        PythonPool pool = TestPools.builder().name("closing").workers(2).build();
        List<Long> workers = TestPools.pids(pool);
        long template = TestPools.parentOf(workers.get(0));
        pool.close();
        TestPools.assertNoneAlive(List.of(template, workers.get(0), workers.get(1)));
        assertThat(TestPools.workersNamed("closing")).isEmpty();
    }

    /** Importing DSPy opens its disk cache's SQLite files; pypool.dspy closes them before the fork. */
    @Test
    void dspyPoolIsForkedAndItsWorkersServe() throws Exception {
        PythonPool pool = pools.start(PythonPool.builder().pythonExecutable(DspyPools.python()).workers(2)
                .handlerModules("pypool.dspy").startupTimeout(Duration.ofSeconds(60)));
        assertThat(jvmChildren()).doesNotContainAnyElementsOf(TestPools.pids(pool));
        assertThat(pool.call("dspy.status", null).path("available").asBoolean()).isTrue();
    }
}
