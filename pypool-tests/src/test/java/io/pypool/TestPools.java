package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Builders and checks shared by the tests; every test still builds and closes its own pool. */
final class TestPools {
    static final Path TEST_HANDLERS = Path.of(System.getProperty("pypool.testPythonPath", "src/test/python"));

    private TestPools() {}

    static PythonPoolBuilder builder() {
        return PythonPool.builder()
                .backend(RayForTests.backend()) // null, local processes, unless -Dpypool.backend=ray
                .pythonPath(TEST_HANDLERS)
                .handlerModules("pypool.examples", "pypool.faults", "pypool_test_handlers", "conversation_handlers")
                .workers(2)
                .startupTimeout(Duration.ofSeconds(60))
                .callTimeout(Duration.ofSeconds(30));
    }

    /**
     * Skips a test when the pools run on Ray ({@code -Dpypool.backend=ray}): for what only a local
     * worker has (a caller's spin that catches a reply within microseconds, /proc readings of the
     * worker, a fork server).
     */
    static void assumeLocal(String why) {
        org.junit.jupiter.api.Assumptions.assumeTrue(RayForTests.backend() == null, "local workers only: " + why);
    }

    /** The arguments of the test handlers that call a Java function: its name and its arguments (null allowed). */
    static java.util.Map<String, Object> javaCall(String name, Object args) {
        java.util.Map<String, Object> m = new java.util.HashMap<>();
        m.put("name", name);
        m.put("args", args);
        return m;
    }

    /** The parent's pid, or -1 when the process or its parent is gone. */
    static long parentOf(long pid) {
        return ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L);
    }

    static List<Long> pids(PythonPool pool) {
        return pool.stats().workers().stream().map(PoolStats.Worker::pid).toList();
    }

    /**
     * Whether the process still runs. A zombie (exited, waiting to be reaped) does not: when a
     * child JVM is killed, its exited workers belong to init until it reaps them, and Java's
     * isAlive() still counts them.
     */
    static boolean alive(long pid) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !handle.get().isAlive()) {
            return false;
        }
        ProcFs.Sample sample = ProcFs.sample(pid);
        return sample == null || sample.state() != 'Z';
    }

    /** Sends a signal by name (STOP, CONT, KILL) the way an operator would. */
    static void signal(long pid, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -%s %d", signal, pid).isZero();
    }

    static boolean allReady(PythonPool pool, int expected) {
        List<PoolStats.Worker> ws = pool.stats().workers();
        return ws.size() == expected && ws.stream().allMatch(w -> w.state().equals("READY"));
    }

    /** Live worker processes of this JVM whose command line names this pool ({@code --pool NAME}). */
    static List<Long> workersNamed(String poolName) {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .filter(p -> p.info().arguments().map(a -> List.of(a).contains("--pool")
                        && List.of(a).indexOf("--pool") + 1 < a.length
                        && a[List.of(a).indexOf("--pool") + 1].equals(poolName)).orElse(false))
                .map(ProcessHandle::pid).toList();
    }

    static void assertNoneAlive(List<Long> pids) {
        assertThat(pids).isNotEmpty().allSatisfy(pid -> assertThat(alive(pid)).as("pid %d alive", pid).isFalse());
    }
}
