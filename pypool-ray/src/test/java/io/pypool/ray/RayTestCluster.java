package io.pypool.ray;

import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The local Ray cluster of a test run. A JVM has one Ray driver, so every Ray test of the run
 * shares one cluster: started by the first test class that asks, stopped when the run ends (the
 * root context's store closes it). It has a head with 4 CPUs; {@link #secondNode()} adds a node
 * with 2 CPUs and 2 of the custom resource {@code node2}, once.
 */
final class RayTestCluster implements BeforeAllCallback {
    static final Path HANDLERS = Path.of("src/test/python");
    private static volatile Holder holder;

    /** What the root store closes at the end of the run. */
    private static final class Holder implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        final LocalRayCluster cluster;
        boolean secondNode;

        Holder(LocalRayCluster cluster) {
            this.cluster = cluster;
        }

        @Override
        public void close() {
            cluster.close();
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        holder = context.getRoot().getStore(ExtensionContext.Namespace.create(RayTestCluster.class))
                .getOrComputeIfAbsent("cluster", k -> {
                    String python = System.getProperty("pypool.rayPython", "");
                    if (python.isBlank()) {
                        throw new IllegalStateException("the Ray tests need -Dpypool.rayPython=<an interpreter with Ray>");
                    }
                    try {
                        return new Holder(LocalRayCluster.start(python, 4));
                    } catch (IOException e) {
                        throw new IllegalStateException(e.getMessage(), e);
                    }
                }, Holder.class);
    }

    static LocalRayCluster cluster() {
        return holder.cluster;
    }

    /** Adds the second node, once per run. */
    static synchronized void secondNode() throws IOException {
        if (!holder.secondNode) {
            holder.cluster.addNode(2, Map.of("node2", 2.0));
            holder.secondNode = true;
        }
    }

    /** A Ray backend on the run's cluster; each worker asks for no CPU unless told, so pools never wait for room. */
    static RayBackend.Builder backend() {
        return RayBackend.builder().address(cluster().address()).python(cluster().python()).numCpus(0);
    }

    static PythonPoolBuilder pool(RayBackend backend) {
        return PythonPool.builder()
                .backend(backend)
                .pythonPath(HANDLERS)
                .handlerModules("pypool.examples", "ray_test_handlers")
                .workers(2)
                .startupTimeout(Duration.ofSeconds(90))
                .callTimeout(Duration.ofSeconds(30));
    }
}
