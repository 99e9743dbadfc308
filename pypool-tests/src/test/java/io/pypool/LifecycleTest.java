package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import io.pypool.testkit.PypoolExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class LifecycleTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path tmp;

    @Test
    void closingOnePoolLeavesAnotherInTheSameJvmServing() throws Exception {
        PythonPool keeps = pools.start(TestPools.builder().name("keeps").workers(2));
        PythonPool closes = TestPools.builder().name("closes").workers(2).build();
        List<Long> closedPids = TestPools.pids(closes);
        assertThat(closes.call("add", Map.of("a", 1, "b", 1), Integer.class)).isEqualTo(2);
        closes.close();
        TestPools.assertNoneAlive(closedPids);
        assertThat(TestPools.pids(keeps)).allSatisfy(pid -> assertThat(TestPools.alive(pid)).isTrue());
        assertThat(keeps.call("add", Map.of("a", 2, "b", 2), Integer.class)).isEqualTo(4);
        assertThatThrownBy(() -> closes.call("add", Map.of("a", 1, "b", 1)))
                .isInstanceOf(PoolClosedException.class).hasMessageContaining("pool 'closes'");
    }

    @Test
    void afterCloseNoPythonProcessOfThePoolIsAlive() throws Exception {
        PythonPool pool = TestPools.builder().workers(3).build();
        List<Long> pids = TestPools.pids(pool);
        assertThat(pids).hasSize(3).allSatisfy(pid -> assertThat(TestPools.alive(pid)).isTrue());
        pool.close();
        TestPools.assertNoneAlive(pids);
        pool.close(); // a second close is harmless
    }

    @Test
    void closeLetsACallInFlightFinishWithinTheGracePeriod() throws Exception {
        Path gate = tmp.resolve("gate");
        PythonPool pool = TestPools.builder().workers(1).closeGracePeriod(Duration.ofSeconds(30)).build();
        CompletableFuture<String> running = pool.callAsync("t.wait_for_file", Map.of("path", gate.toString()), String.class);
        await().until(() -> pool.stats().busyWorkers() == 1);
        CompletableFuture<Void> closing = CompletableFuture.runAsync(pool::close);
        await().until(() -> {
            try {
                pool.call("add", Map.of("a", 1, "b", 1));
                return false;
            } catch (PoolClosedException e) {
                return true;
            }
        });
        assertThat(closing).isNotDone();
        Files.createFile(gate);
        assertThat(running.get()).isEqualTo(gate.toString());
        closing.get();
    }

    @Test
    void closeEndsAHungCallAfterTheGracePeriod() throws Exception {
        PythonPool pool = TestPools.builder().workers(1).closeGracePeriod(Duration.ofMillis(100)).build();
        List<Long> pids = TestPools.pids(pool);
        CompletableFuture<Double> hung = pool.callAsync("sleep", Map.of("ms", 600_000), Double.class);
        await().until(() -> pool.stats().busyWorkers() == 1);
        pool.close();
        assertThat(hung).isCompletedExceptionally();
        assertThatThrownBy(hung::join).hasCauseInstanceOf(PoolClosedException.class)
                .hasMessageContaining("grace period 100 ms passed");
        TestPools.assertNoneAlive(pids);
    }

    @Test
    void handlerModuleThatFailsToImportFailsBuildWithTheImportErrorAndLeavesNoProcess() {
        assertThatThrownBy(() -> TestPools.builder().name("broken").handlerModules("broken_handlers").workers(2).build())
                .isInstanceOf(PoolStartupException.class)
                .hasMessageContaining("pool 'broken'")
                .hasMessageContaining("failed to start")
                .hasMessageContaining("ModuleNotFoundError")
                .hasMessageContaining("pypool_module_that_does_not_exist")
                .hasMessageContaining("broken_handlers");
        // The ImportError text came from the workers, so they did run; none may be left.
        assertThat(TestPools.workersNamed("broken")).isEmpty();
    }

    @Test
    void missingInterpreterFailsBuildWithAHint() {
        TestPools.assumeLocal("with a backend the interpreter is the actors' one");
        assertThatThrownBy(() -> TestPools.builder().pythonExecutable("/nonexistent/python3").build())
                .isInstanceOf(PoolStartupException.class)
                .hasMessageContaining("/nonexistent/python3")
                .hasMessageContaining("pythonExecutable");
    }

    @Test
    void startupTimeoutFailsBuildAndLeavesNoProcess() {
        // A handler module that sleeps at import: the worker runs, but never says hello in time.
        assertThatThrownBy(() -> TestPools.builder().name("too-slow").handlerModules("slow_import_handlers").workers(1)
                .environment("PYPOOL_TEST_IMPORT_DELAY_S", "120")
                .startupTimeout(Duration.ofMillis(700)).build())
                .isInstanceOf(PoolStartupException.class)
                // Either the build's own wait or the per-worker check reports it first; both say this.
                .hasMessageContaining("worker w1")
                .hasMessageContaining("the startup timeout of 700 ms");
        assertThat(TestPools.workersNamed("too-slow")).isEmpty();
    }
}
