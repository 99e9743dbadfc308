package io.pypool;

import io.pypool.ray.LocalRayCluster;
import io.pypool.ray.RayBackend;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * With {@code -Dpypool.backend=ray -Dpypool.rayPython=PYTHON}, every pool the tests build through
 * {@link TestPools#builder()} runs its workers as Ray actors on a local cluster: the core tests
 * that make sense on a cluster, run unchanged against the Ray backend. One cluster per test JVM
 * (a JVM has one Ray driver), started by the first pool and stopped when the JVM exits. On this
 * machine an actor's worker is a local process, so the tests' checks of pids and signals hold.
 */
final class RayForTests {
    private static LocalRayCluster cluster; // guarded by RayForTests.class

    private RayForTests() {}

    /** The Ray backend for the tests' pools, or null when the tests run on local processes. */
    static synchronized WorkerBackend backend() {
        if (!"ray".equals(System.getProperty("pypool.backend"))) {
            return null;
        }
        String python = System.getProperty("pypool.rayPython", "");
        if (python.isBlank()) {
            throw new IllegalStateException("-Dpypool.backend=ray needs -Dpypool.rayPython=<an interpreter with Ray>");
        }
        if (cluster == null) {
            try {
                cluster = LocalRayCluster.start(python, 4);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            LocalRayCluster started = cluster;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "pypool-tests-ray-stop"));
        }
        // No CPU per worker: parallel tests' pools never wait for room on the cluster.
        return RayBackend.builder().address(cluster.address()).python(python).numCpus(0).build();
    }
}
