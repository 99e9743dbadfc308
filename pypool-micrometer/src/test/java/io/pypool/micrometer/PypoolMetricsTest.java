package io.pypool.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pypool.CallOptions;
import io.pypool.CallTimeoutException;
import io.pypool.PoolSaturatedException;
import io.pypool.PythonException;
import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import io.pypool.PythonSession;
import io.pypool.WorkerCrashedException;
import io.pypool.testkit.PypoolExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The meters of a pool of real Python workers, while calls succeed, fail, time out and crash workers. */
class PypoolMetricsTest {
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    private final MeterRegistry registry = new SimpleMeterRegistry();

    private static PythonPoolBuilder builder(String name, PypoolMetrics metrics) {
        return PythonPool.builder().name(name).handlerModules("pypool.examples", "pypool.faults")
                .startupTimeout(Duration.ofSeconds(60)).listener(metrics.listener());
    }

    private double counter(String name) {
        return registry.get(name).tag("pool", "metered").functionCounter().count();
    }

    private double gauge(String name) {
        return registry.get(name).tag("pool", "metered").gauge().value();
    }

    private long timed(String command, String outcome) {
        Timer t = registry.find("pypool.calls").tags("pool", "metered", "command", command, "outcome", outcome).timer();
        return t == null ? 0 : t.count();
    }

    @Test
    void callsAreTimedByCommandAndOutcomeAndFailuresCounted() throws Exception {
        PypoolMetrics metrics = new PypoolMetrics();
        PythonPool pool = pools.start(builder("metered", metrics).workers(2));
        metrics.monitor(pool).bindTo(registry);

        assertThat(pool.call("add", Map.of("a", 1, "b", 2), Integer.class)).isEqualTo(3);
        assertThatThrownBy(() -> pool.call("add", Map.of("a", 1))).isInstanceOf(PythonException.class);
        assertThatThrownBy(() -> pool.call("sleep", Map.of("ms", 2000), Double.class,
                CallOptions.timeout(Duration.ofMillis(200)))).isInstanceOf(CallTimeoutException.class);
        assertThatThrownBy(() -> pool.call("fault.crash", Map.of())).isInstanceOf(WorkerCrashedException.class);

        await().atMost(PATIENCE).untilAsserted(() -> {
            assertThat(timed("add", "SUCCESS")).isEqualTo(1);
            assertThat(timed("add", "PYTHON_ERROR")).isEqualTo(1);
            assertThat(timed("sleep", "TIMEOUT")).isEqualTo(1);
            assertThat(timed("fault.crash", "CRASHED")).isEqualTo(1);
            assertThat(counter("pypool.calls.timeouts")).isEqualTo(1);
            assertThat(counter("pypool.workers.crashes")).isEqualTo(1);
            // one replaces the crashed worker, one the worker retired for running past the deadline
            assertThat(counter("pypool.workers.restarts")).isEqualTo(2);
            assertThat(registry.get("pypool.workers").tags("pool", "metered", "state", "READY").gauge().value())
                    .isEqualTo(2);
        });
        assertThat(registry.find("pypool.calls").timer().takeSnapshot().percentileValues())
                .as("percentiles are off unless asked for").isEmpty();
    }

    @Test
    void gaugesShowQueuedAndActiveCallsSessionsAndMemoryAndSaturationIsCounted() throws Exception {
        PypoolMetrics metrics = new PypoolMetrics();
        PythonPool pool = pools.start(builder("metered", metrics).workers(1).maxInFlightPerWorker(1).maxQueuedCalls(1)
                .healthCheckInterval(Duration.ofMillis(100)));
        metrics.monitor(pool).bindTo(registry);
        PythonSession session = pool.session("s1");
        session.call("counter.add", Map.of("by", 1));
        assertThat(gauge("pypool.sessions")).isEqualTo(1);
        await().atMost(PATIENCE).until(() -> gauge("pypool.workers.memory.resident") > 1 << 20);

        CompletableFuture<Double> running = pool.callAsync("sleep", Map.of("ms", 1000), Double.class);
        await().atMost(PATIENCE).until(() -> gauge("pypool.calls.active") == 1);
        CompletableFuture<Double> queued = pool.callAsync("sleep", Map.of("ms", 1), Double.class);
        assertThat(gauge("pypool.calls.queued")).isEqualTo(1);
        assertThatThrownBy(() -> pool.callAsync("echo", null).get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(PoolSaturatedException.class);
        assertThat(counter("pypool.calls.saturated")).isEqualTo(1);
        assertThat(timed("echo", "SATURATED")).isEqualTo(1);

        running.get(10, TimeUnit.SECONDS);
        queued.get(10, TimeUnit.SECONDS);
        await().atMost(PATIENCE).until(() -> gauge("pypool.calls.active") == 0 && gauge("pypool.calls.queued") == 0);
    }

    @Test
    void commandsPastTheCapAreTaggedOther() throws Exception {
        PypoolMetrics metrics = new PypoolMetrics().maxCommands(2);
        PythonPool pool = pools.start(builder("metered", metrics).workers(1));
        metrics.monitor(pool).bindTo(registry);
        for (String command : List.of("echo", "add", "sleep", "primes")) {
            pool.callAsync(command, Map.of()).exceptionally(e -> null).get(10, TimeUnit.SECONDS);
        }
        await().atMost(PATIENCE).untilAsserted(() -> assertThat(registry.find("pypool.calls").timers().stream()
                .map(t -> t.getId().getTag("command")).distinct()).containsExactlyInAnyOrder("echo", "add", "other"));
        assertThat(registry.find("pypool.calls").tag("command", "other").timers().stream().mapToLong(Timer::count).sum())
                .isEqualTo(2);
    }

    @Test
    void recyclingIsCounted() throws Exception {
        PypoolMetrics metrics = new PypoolMetrics();
        PythonPool pool = pools.start(builder("metered", metrics).workers(1).recycleAfterCalls(1)
                .healthCheckInterval(Duration.ofMillis(100)));
        metrics.monitor(pool).bindTo(registry);
        pool.call("echo", Map.of("value", 1));
        await().atMost(PATIENCE).until(() -> counter("pypool.workers.recycles") == 1 && counter("pypool.workers.restarts") == 1);
    }

    @Test
    void bindingNeedsTheListenerAndThePool() {
        PypoolMetrics metrics = new PypoolMetrics();
        assertThatThrownBy(() -> metrics.bindTo(registry)).isInstanceOf(IllegalStateException.class);
        metrics.listener();
        assertThatThrownBy(() -> metrics.maxCommands(5)).isInstanceOf(IllegalStateException.class);
    }
}
