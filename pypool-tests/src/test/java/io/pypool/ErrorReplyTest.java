package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.awaitility.Awaitility;
import io.pypool.testkit.PypoolExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ErrorReplyTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @Test
    void pythonExceptionArrivesTypedWithTracebackAndTheWorkerKeepsServing() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        long pidBefore = pool.call("t.pid", null, Long.class);
        PythonException e = catchThrowableOfType(PythonException.class,
                () -> pool.call("t.boom", Map.of("message", "bad input 42")));
        assertThat(e.pythonType()).isEqualTo("ValueError");
        assertThat(e.pythonMessage()).isEqualTo("bad input 42");
        assertThat(e.pythonTraceback()).contains("pypool_test_handlers.py").contains("raise ValueError(message)");
        assertThat(e.command()).isEqualTo("t.boom");
        assertThat(e.workerId()).isNotBlank();
        assertThat(e).hasMessageContaining("command 't.boom' raised ValueError: bad input 42")
                .hasMessageContaining("Traceback");
        assertThat(pool.call("add", Map.of("a", 1, "b", 2), Integer.class)).isEqualTo(3);
        assertThat(pool.call("t.pid", null, Long.class)).as("same process, not a replacement").isEqualTo(pidBefore);
    }

    @Test
    void asyncCallFailsWithTheSameTypedException() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        assertThatThrownBy(() -> pool.callAsync("t.boom", null).get())
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(PythonException.class).hasMessageContaining("ValueError: kaboom");
    }

    @Test
    void unknownCommandNamesTheCommandAndWhatTheWorkerServes() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        assertThatThrownBy(() -> pool.call("no.such.command", null))
                .isInstanceOf(UnknownCommandException.class)
                .hasMessageContaining("unknown command 'no.such.command'")
                .hasMessageContaining("add")
                .hasMessageContaining("handler modules");
    }

    @Test
    void badArgumentsNameTheParameterAndTheHandlerSignature() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        assertThatThrownBy(() -> pool.call("add", Map.of("a", 1)))
                .isInstanceOf(BadArgumentsException.class)
                .hasMessageContaining("command 'add' rejected its arguments")
                .hasMessageContaining("'b'")
                .hasMessageContaining("add(a: float, b: float)");
        assertThatThrownBy(() -> pool.call("add", Map.of("a", 1, "b", 2, "c", 3)))
                .isInstanceOf(BadArgumentsException.class)
                .hasMessageContaining("unexpected keyword argument 'c'");
        assertThatThrownBy(() -> pool.call("add", 5))
                .isInstanceOf(BadArgumentsException.class)
                .hasMessageContaining("takes a JSON object");
        assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
    }

    @Test
    void nonSerializableResultIsAClearError() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        assertThatThrownBy(() -> pool.call("t.set", null))
                .isInstanceOf(PythonException.class)
                .hasMessageContaining("the result of 't.set' is not JSON-serializable")
                .hasMessageContaining("set");
    }

    @Test
    void resultThatDoesNotFitTheJavaTypeNamesBoth() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        assertThatThrownBy(() -> pool.call("text.stats", Map.of("text", "a b"), Integer.class))
                .isInstanceOf(ResultMappingException.class)
                .hasMessageContaining("cannot be read as java.lang.Integer")
                .hasMessageContaining("\"words\":2");
    }

    @Test
    void argumentsThatAreNotJsonFailBeforeAnythingIsSent() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        assertThatThrownBy(() -> pool.call("echo", Map.of("value", new Object())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("arguments of 'echo' cannot be written as JSON");
    }

    @Test
    void oversizedArgumentsAreRejectedWithBothSizes() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxFrameBytes(4096));
        assertThatThrownBy(() -> pool.call("echo", Map.of("value", "x".repeat(10_000))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("over maxFrameBytes (4096)");
        assertThat(pool.call("echo", Map.of("value", "fits"), String.class)).isEqualTo("fits");
    }

    @Test
    void oversizedResultIsRefusedByTheWorkerNotSent() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).maxFrameBytes(4096));
        assertThatThrownBy(() -> pool.call("primes", Map.of("below", 20_000)))
                .isInstanceOf(PythonException.class)
                .hasMessageContaining("over the frame limit of 4096 bytes");
        assertThat(pool.call("add", Map.of("a", 1, "b", 1), Integer.class)).isEqualTo(2);
    }

    @Test
    void printAndFdOneWritesDoNotDisturbTheProtocolAndReachThePoolLog() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().name("noisy-pool").workers(1));
        try (LogCapture log = new LogCapture("noisy-pool")) {
            assertThat(pool.call("t.noisy", Map.of("text", "hello"), String.class)).isEqualTo("HELLO");
            assertThat(pool.call("add", Map.of("a", 2, "b", 2), Integer.class)).isEqualTo(4);
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(log.lines())
                    .anySatisfy(l -> assertThat(l).contains("noisy-pool").contains("printed by handler: hello"))
                    .anySatisfy(l -> assertThat(l).contains("written to fd 1: hello")));
        }
    }

    @Test
    void plainOutputArrivesAtTheLevelTheBuilderSays() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().name("quiet-output-pool").workers(1)
                .workerOutputLevel(org.slf4j.event.Level.DEBUG));
        try (LogCapture log = new LogCapture("quiet-output-pool")) {
            pool.call("t.noisy", Map.of("text", "hush"));
            pool.call("t.log", Map.of("level", "WARNING", "message", "still a warning"));
            String logger = "io.pypool.python.quiet-output-pool";
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(log.events())
                    .anySatisfy(e -> assertThat(e).startsWith("DEBUG " + logger + ": ").contains("printed by handler: hush"))
                    .anySatisfy(e -> assertThat(e).startsWith("WARN " + logger + ": ").contains("still a warning")));
            assertThat(log.events()).noneSatisfy(e -> assertThat(e).startsWith("INFO ").contains("hush"));
        }
    }

    @Test
    void pythonLoggingRecordsArriveAtTheirOwnLevelOnTheLoggerOfThePool() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().name("logging-pool").workers(1));
        try (LogCapture log = new LogCapture("logging-pool")) {
            pool.call("t.log", Map.of("level", "WARNING", "message", "disk almost full"));
            pool.call("t.log", Map.of("level", "ERROR", "message", "lookup failed", "with_traceback", true));
            pool.call("t.log", Map.of("level", "DEBUG", "message", "details"));
            String logger = "io.pypool.python.logging-pool";
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(log.events())
                    .anySatisfy(e -> assertThat(e).startsWith("WARN " + logger + ": ")
                            .contains("pypool_test_handlers.logs: disk almost full"))
                    .anySatisfy(e -> assertThat(e).startsWith("ERROR " + logger + ": ").contains("lookup failed\n")
                            .contains("Traceback (most recent call last):").contains("ValueError: the cause"))
                    .anySatisfy(e -> assertThat(e).startsWith("DEBUG " + logger + ": ").contains("details"))
                    .anySatisfy(e -> assertThat(e).startsWith("INFO " + logger + ": ")
                            .contains("printed beside disk almost full")));
        }
    }
}
