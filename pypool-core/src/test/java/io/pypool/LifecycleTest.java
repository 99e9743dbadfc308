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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LifecycleTest {

    @TempDir
    Path tmp;

    @Test
    void closingOnePoolLeavesAnotherInTheSameJvmServing() throws Exception {
        try (PythonPool keeps = TestPools.builder().name("keeps").workers(2).build()) {
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
        long before = pythonChildren();
        assertThatThrownBy(() -> TestPools.builder().name("broken").handlerModules("broken_handlers").workers(2).build())
                .isInstanceOf(PoolStartupException.class)
                .hasMessageContaining("pool 'broken'")
                .hasMessageContaining("failed to start")
                .hasMessageContaining("ModuleNotFoundError")
                .hasMessageContaining("pypool_module_that_does_not_exist")
                .hasMessageContaining("broken_handlers");
        assertThat(pythonChildren()).isLessThanOrEqualTo(before);
    }

    @Test
    void missingInterpreterFailsBuildWithAHint() {
        assertThatThrownBy(() -> TestPools.builder().pythonExecutable("/nonexistent/python3").build())
                .isInstanceOf(PoolStartupException.class)
                .hasMessageContaining("/nonexistent/python3")
                .hasMessageContaining("pythonExecutable");
    }

    @Test
    void startupTimeoutFailsBuildAndLeavesNoProcess() {
        long before = pythonChildren();
        // A sitecustomize-free way to be slow: a handler module that sleeps at import.
        assertThatThrownBy(() -> TestPools.builder().handlerModules("slow_import_handlers").workers(1)
                .environment("PYPOOL_TEST_IMPORT_DELAY_S", "120")
                .startupTimeout(Duration.ofMillis(700)).build())
                .isInstanceOf(PoolStartupException.class)
                .hasMessageContaining("0 of 1 required workers were ready after 700 ms (startupTimeout)");
        assertThat(pythonChildren()).isLessThanOrEqualTo(before);
    }

    @Test
    void workersStartInParallel() throws Exception {
        // Each worker sleeps 1.5 s at import; started one after another, four would need 6 s.
        // The handshake times tell whether starts overlapped without timing the test itself.
        try (PythonPool pool = TestPools.builder().handlerModules("slow_import_handlers").workers(4)
                .environment("PYPOOL_TEST_IMPORT_DELAY_S", "1.5").build()) {
            List<Double> importedAt = new java.util.ArrayList<>();
            for (int i = 0; i < 16 && importedAt.size() < 4; i++) {
                double t = pool.call("slow.imported_at", null, Double.class);
                if (!importedAt.contains(t)) {
                    importedAt.add(t);
                }
            }
            assertThat(importedAt).hasSize(4);
            double spread = importedAt.stream().mapToDouble(d -> d).max().orElseThrow()
                    - importedAt.stream().mapToDouble(d -> d).min().orElseThrow();
            assertThat(spread).as("seconds between the first and last worker finishing its import").isLessThan(1.5);
        }
    }

    private static long pythonChildren() {
        return ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("").contains("python")).count();
    }
}
