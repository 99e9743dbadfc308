package io.pypool.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.common.KeyValue;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.pypool.PythonException;
import io.pypool.PythonPool;
import io.pypool.testkit.PypoolExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Observations of calls to real Python workers, and the traceparent their handlers see. */
class PypoolObservationTest {
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    private final ObservationRegistry registry = ObservationRegistry.create();
    private final List<Observation.Context> started = new CopyOnWriteArrayList<>();
    private final List<Observation.Context> stopped = new CopyOnWriteArrayList<>();
    private final AtomicLong spans = new AtomicLong();

    /** Records each observation, and gives it a span id as a tracing bridge would. */
    PypoolObservationTest() {
        registry.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public void onStart(Observation.Context context) {
                context.put("span", String.format("%016x", spans.incrementAndGet()));
                started.add(context);
            }

            @Override
            public void onStop(Observation.Context context) {
                stopped.add(context);
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }
        });
    }

    /** The current observation's traceparent: what a tracing bridge's current span would give. */
    private String currentTraceparent() {
        Observation current = registry.getCurrentObservation();
        return current == null ? null : PypoolObservation.traceparent(TRACE_ID, current.getContext().get("span"), true);
    }

    private PythonPool pool() {
        return pools.start(PythonPool.builder().name("traced").handlerModules("pypool.examples").workers(1)
                .startupTimeout(Duration.ofSeconds(60))
                .tracer(PypoolObservation.of(registry, this::currentTraceparent)));
    }

    private static Map<String, String> lowCardinality(Observation.Context context) {
        return context.getLowCardinalityKeyValues().stream().collect(Collectors.toMap(KeyValue::getKey, KeyValue::getValue));
    }

    private Observation.Context call(String command) {
        return started.stream().filter(c -> c.getName().equals(PypoolObservation.NAME)
                && ("pypool " + command).equals(c.getContextualName())).findFirst().orElseThrow();
    }

    @Test
    void aCallIsAChildObservationAndItsHandlerSeesTheCallsSpan() throws Exception {
        PythonPool pool = pool();
        Observation parent = Observation.start("request", registry);
        String seen;
        Observation.Scope scope = parent.openScope();
        try {
            seen = pool.call("traceparent", null, String.class);
        } finally {
            scope.close();
            parent.stop();
        }
        Observation.Context call = call("traceparent");
        await().atMost(PATIENCE).until(() -> stopped.contains(call));
        assertThat(call.getParentObservation()).isSameAs(parent);
        assertThat(seen).isEqualTo("00-" + TRACE_ID + "-" + call.get("span") + "-01");
        assertThat(lowCardinality(call)).containsEntry("pool", "traced").containsEntry("command", "traceparent")
                .containsEntry("outcome", "SUCCESS");
        assertThat(call.getError()).isNull();
    }

    @Test
    void aFailedCallEndsWithItsOutcomeAndError() throws Exception {
        PythonPool pool = pool();
        assertThatThrownBy(() -> pool.call("add", Map.of("a", "one", "b", 2), Integer.class))
                .isInstanceOf(PythonException.class);
        Observation.Context call = call("add");
        await().atMost(PATIENCE).until(() -> stopped.contains(call));
        assertThat(lowCardinality(call)).containsEntry("outcome", "PYTHON_ERROR");
        assertThat(call.getError()).isInstanceOf(PythonException.class).hasMessageContaining("TypeError");
        assertThat(call.getParentObservation()).isNull();
    }

    @Test
    void aStreamIsObservedUntilItEnds() throws Exception {
        PythonPool pool = pool();
        try (Stream<String> words = pool.stream("tokens", Map.of("text", "a b c"), String.class)) {
            assertThat(words.toList()).containsExactly("a", "b", "c");
        }
        Observation.Context call = call("tokens");
        await().atMost(PATIENCE).until(() -> stopped.contains(call));
        assertThat(lowCardinality(call)).containsEntry("command", "tokens").containsEntry("outcome", "SUCCESS");
    }

    @Test
    void withoutASupplierNoTraceparentIsSent() throws Exception {
        PythonPool pool = pools.start(PythonPool.builder().name("observed").handlerModules("pypool.examples")
                .workers(1).startupTimeout(Duration.ofSeconds(60)).tracer(PypoolObservation.of(registry)));
        assertThat(pool.call("traceparent", null, String.class)).isNull();
        await().atMost(PATIENCE).until(() -> stopped.size() == 1);
        assertThat(lowCardinality(stopped.get(0))).containsEntry("pool", "observed");
    }

    @Test
    void traceparentsAreW3cOrNothing() {
        assertThat(PypoolObservation.traceparent(TRACE_ID, "b7ad6b7169203331", true))
                .isEqualTo("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        assertThat(PypoolObservation.traceparent("8448eb211c80319c", "b7ad6b7169203331", null))
                .isEqualTo("00-00000000000000008448eb211c80319c-b7ad6b7169203331-00");
        assertThat(PypoolObservation.traceparent(TRACE_ID, "B7AD6B7169203331", true)).isNull();
        assertThat(PypoolObservation.traceparent("0".repeat(32), "b7ad6b7169203331", true)).isNull();
        assertThat(PypoolObservation.traceparent(TRACE_ID, null, true)).isNull();
    }
}
