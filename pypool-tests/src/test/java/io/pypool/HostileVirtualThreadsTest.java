package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pypool.testkit.PypoolExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** 10,000 virtual threads on a pipelined pool (runs only on a JDK with virtual threads). */
class HostileVirtualThreadsTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @Test
    void tenThousandVirtualThreadsEachGetTheirOwnReply() throws Exception {
        ExecutorService exec;
        try {
            exec = (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (NoSuchMethodException e) {
            assumeTrue(false, "no virtual threads on this JDK");
            return;
        }
        PythonPool pool = pools.start(TestPools.builder().workers(2).maxQueuedCalls(100)
                .saturationPolicy(SaturationPolicy.WAIT).callTimeout(Duration.ofSeconds(90)));
        List<Future<String>> results = new ArrayList<>();
        try {
            for (int i = 0; i < 10_000; i++) {
                String nonce = "v" + i;
                Callable<String> c = () -> pool.call("t.echo", Map.of("nonce", nonce)).get("nonce").asText();
                results.add(exec.submit(c));
            }
            for (int i = 0; i < results.size(); i++) {
                assertThat(results.get(i).get(120, TimeUnit.SECONDS)).isEqualTo("v" + i);
            }
        } finally {
            exec.shutdownNow();
        }
        assertThat(pool.stats().restarts()).isZero();
    }
}
