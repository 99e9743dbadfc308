package io.pypool.ray;

import static org.assertj.core.api.Assertions.assertThat;

import io.pypool.PoolStats;
import io.pypool.PythonPool;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A second node joins the cluster (its own raylet, 2 CPUs and 2 of the resource {@code node2}):
 * a custom resource puts every worker on it, and workers that do not fit on one node are spread
 * over both.
 */
@Tag("ray")
@ExtendWith(RayTestCluster.class)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class RayTwoNodesTest {
    private static final Pattern NODE = Pattern.compile("on node (\\w+)");

    @Test
    void customResourcesPlaceWorkersAndBigWorkersSpreadOverBothNodes() throws Exception {
        RayTestCluster.secondNode();
        String second;
        try (PythonPool pool = RayTestCluster.pool(RayTestCluster.backend().resource("node2", 1).build())
                .environment("PYPOOL_TEST_MARKER", "from the builder").build()) {
            Set<String> nodes = nodes(pool);
            assertThat(nodes).as("both workers on the node that has 'node2'").hasSize(1);
            second = nodes.iterator().next();
            assertThat(pool.call("where", null, Map.class).get("marker")).isEqualTo("from the builder");
        }
        // 3 workers of 2 CPUs: the head (4 CPUs) takes two, the second node (2 CPUs) the third.
        try (PythonPool pool = RayTestCluster.pool(RayTestCluster.backend().numCpus(2).build()).workers(3).build()) {
            Set<String> nodes = nodes(pool);
            assertThat(nodes).as("workers on both nodes").hasSize(2).contains(second);
            for (int i = 0; i < 20; i++) {
                assertThat(pool.call("add", java.util.List.of(i, 1), Integer.class)).isEqualTo(i + 1);
            }
        }
    }

    @Test
    @org.junit.jupiter.api.Order(1) // first: it caught the bug it guards against when the JVM was young
    void bigFramesBothWaysReachAWorkerOnTheOtherNode() throws Exception {
        RayTestCluster.secondNode();
        try (PythonPool pool = RayTestCluster.pool(RayTestCluster.backend().resource("node2", 0.5).build())
                .javaFunction("echo", args -> args).build()) {
            // 400 MB of callbacks through a worker on the other node: the JVM's garbage collector runs
            // while the actor's results are fetched, which once freed a result still being read.
            java.util.List<java.util.concurrent.CompletableFuture<Integer>> calls = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                calls.add(pool.callAsync("callback_echo", Map.of("size", i == 0 ? 2 << 20 : 10, "times", 200), Integer.class));
            }
            assertThat(calls.get(0).get(120, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(200 * (2 << 20));
            for (int i = 1; i < 8; i++) {
                assertThat(calls.get(i).get(120, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(2000);
            }
            byte[] sent = new byte[3_000_000];
            new java.util.Random(3).nextBytes(sent);
            assertThat(pool.call("echo", Map.of("value", sent), byte[].class)).isEqualTo(sent);
        }
    }

    private static Set<String> nodes(PythonPool pool) {
        return pool.stats().workers().stream().map(PoolStats.Worker::location).map(location -> {
            Matcher m = NODE.matcher(location);
            assertThat(m.find()).as("a node in '%s'", location).isTrue();
            return m.group(1);
        }).collect(Collectors.toSet());
    }
}
