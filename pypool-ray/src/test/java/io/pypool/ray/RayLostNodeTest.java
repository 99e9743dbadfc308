package io.pypool.ray;

import io.pypool.PythonPool;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node is lost, as when its machine dies: every process of it SIGKILLed at once. Runs after the
 * other Ray test classes (junit-platform.properties orders classes by {@link Order}): for a few
 * seconds after, the cluster may still offer the dead node to new actors, which would fail the
 * next pool's start for reasons no test is about.
 */
@Tag("ray")
@Order(Integer.MAX_VALUE)
@ExtendWith(RayTestCluster.class)
class RayLostNodeTest {

    @Test
    void aLostNodeIsACrashForTheCallsOfItsWorkers() throws Exception {
        LocalRayCluster.LostNode node = RayTestCluster.cluster().addNodeToLose(1, Map.of("doomed", 1.0));
        try (PythonPool pool = RayTestCluster.pool(RayTestCluster.backend().resource("doomed", 1).build())
                .workers(1).build()) {
            long worker = ((Number) pool.call("where", null, Map.class).get("pid")).longValue();
            var held = pool.callAsync("sleep", Map.of("ms", 120_000), Object.class);
            org.awaitility.Awaitility.await().until(() -> pool.stats().workers().get(0).inFlight() > 0);
            long lost = System.nanoTime();
            node.kill(); // the machine is gone: its raylet, its actors, all at once
            org.assertj.core.api.Assertions.assertThatThrownBy(held::join)
                    .hasCauseInstanceOf(io.pypool.WorkerCrashedException.class)
                    .hasMessageContaining("was lost: its Ray actor died");
            System.out.printf("a lost node's call failed after %d ms%n", (System.nanoTime() - lost) / 1_000_000);
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                    .untilAsserted(() -> Processes.assertNoneAlive(java.util.List.of(worker)));
        }
    }
}
