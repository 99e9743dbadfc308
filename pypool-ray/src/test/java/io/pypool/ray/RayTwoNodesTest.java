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

    private static Set<String> nodes(PythonPool pool) {
        return pool.stats().workers().stream().map(PoolStats.Worker::location).map(location -> {
            Matcher m = NODE.matcher(location);
            assertThat(m.find()).as("a node in '%s'", location).isTrue();
            return m.group(1);
        }).collect(Collectors.toSet());
    }
}
