package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;

import io.pypool.testkit.PypoolExtension;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * Start-up behaviour of spawned workers ({@code forkServer(false)}: each imports the modules
 * itself), read from the workers' own import timestamps. Isolated from the parallel
 * suite: on a loaded 2-core machine other tests' Python starts would blur the timestamps.
 */
@Isolated
class StartupTimingTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @Test
    void workersStartInParallel() throws Exception {
        // Each worker sleeps 1.5 s at import; started one after another, four would need 6 s.
        // The handshake times tell whether starts overlapped without timing the test itself.
        PythonPool pool = pools.start(TestPools.builder().forkServer(false).handlerModules("slow_import_handlers").workers(4)
                .environment("PYPOOL_TEST_IMPORT_DELAY_S", "1.5"));
        List<Double> importedAt = importTimesOfEveryWorker(pool, 4);
        double spread = importedAt.stream().mapToDouble(d -> d).max().orElseThrow()
                - importedAt.stream().mapToDouble(d -> d).min().orElseThrow();
        assertThat(spread).as("seconds between the first and last worker finishing its import").isLessThan(1.5);
    }

    @Test
    void startsAreThrottledToMaxConcurrentStarts() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().forkServer(false).handlerModules("slow_import_handlers").workers(3)
                .maxConcurrentStarts(1).environment("PYPOOL_TEST_IMPORT_DELAY_S", "0.4"));
        List<Double> importedAt = importTimesOfEveryWorker(pool, 3);
        importedAt.sort(Double::compare);
        assertThat(importedAt.get(1) - importedAt.get(0)).as("second start waited for the first").isGreaterThan(0.35);
        assertThat(importedAt.get(2) - importedAt.get(1)).as("third start waited for the second").isGreaterThan(0.35);
    }


    /** One session per worker (a new session goes to the worker with the fewest), asked when it imported. */
    private static List<Double> importTimesOfEveryWorker(PythonPool pool, int workers) throws Exception {
        List<Double> importedAt = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            importedAt.add(pool.session("probe-" + i).call("slow.imported_at", null, Double.class));
        }
        assertThat(importedAt).as("one distinct import per worker").doesNotHaveDuplicates();
        return importedAt;
    }
}
