package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** A {@link CallTracer} on fake workers, and the traceparent's place in a request. */
class CallTracerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    private final List<String> events = new CopyOnWriteArrayList<>();

    private CallTracer recording() {
        return (pool, command, sessionId) -> {
            events.add("start " + pool + " " + command + " " + sessionId);
            return new CallTracer.Scope() {
                @Override
                public String traceparent() {
                    return TRACEPARENT;
                }

                @Override
                public void end(CallOutcome outcome, Throwable failure) {
                    events.add("end " + command + " " + outcome + " " + (failure == null ? null : failure.getClass().getSimpleName()));
                }
            };
        };
    }

    private PoolEngine pool(CallTracer tracer) {
        FakeLauncher launcher = new FakeLauncher(1, (w, cmd, args, session) -> {
            if (cmd.equals("boom")) {
                throw new IllegalStateException("backend refused");
            }
            return cmd;
        });
        return PoolEngine.start(PythonPool.builder().name("traced").workers(1).reapOrphans(false)
                .callTimeout(Duration.ofSeconds(10)).tracer(tracer).settings(), p -> launcher);
    }

    @Test
    void eachCallIsStartedAndEndedWithItsOutcome() throws Exception {
        try (PoolEngine pool = pool(recording())) {
            assertThat(pool.call("quick", null, String.class)).isEqualTo("quick");
            assertThat(pool.session("s1").call("step", null, String.class)).isEqualTo("step");
            assertThatThrownBy(() -> pool.call("boom", null, String.class)).isInstanceOf(PythonException.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> events.size() == 6);
        }
        assertThat(events).containsExactly(
                "start traced quick null", "end quick SUCCESS null",
                "start traced step s1", "end step SUCCESS null",
                "start traced boom null", "end boom PYTHON_ERROR PythonException");
    }

    @Test
    void aTracerThatThrowsLeavesCallsUntraced() throws Exception {
        try (PoolEngine pool = pool((p, command, sessionId) -> {
            throw new IllegalStateException("tracer broken");
        })) {
            assertThat(pool.call("quick", null, String.class)).isEqualTo("quick");
        }
    }

    @Test
    void argumentsThatCannotBeSentEndTheScopeToo() {
        try (PoolEngine pool = pool(recording())) {
            assertThatThrownBy(() -> pool.call("quick", new Object(), String.class))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(events).containsExactly("start traced quick null", "end quick OTHER IllegalArgumentException");
    }

    @Test
    void theTraceparentFollowsTheCommandAndTheDeadlineStaysFirst() throws Exception {
        byte[] frame = FrameCodec.encodeRequest(JSON, "cmd", Map.of("a", 1), "s1", Integer.MAX_VALUE, 0, 0, TRACEPARENT);
        FrameCodec.stampDeadline(frame, 1234);
        JsonNode body = JSON.readTree(Arrays.copyOfRange(frame, FrameCodec.HEADER_BYTES, frame.length));
        Iterator<String> names = body.fieldNames();
        assertThat(List.of(names.next(), names.next(), names.next())).containsExactly("deadline_ms", "cmd", "traceparent");
        assertThat(body.get("deadline_ms").asLong()).isEqualTo(1234);
        assertThat(body.get("traceparent").asText()).isEqualTo(TRACEPARENT);

        byte[] untraced = FrameCodec.encodeRequest(JSON, "cmd", Map.of("a", 1), "s1", Integer.MAX_VALUE);
        assertThat(JSON.readTree(Arrays.copyOfRange(untraced, FrameCodec.HEADER_BYTES, untraced.length)).has("traceparent"))
                .isFalse();
    }
}
