package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pypool.dspy.Dspy;
import io.pypool.dspy.DspyProgram;
import io.pypool.dspy.DspyResult;
import io.pypool.dspy.DspySession;
import io.pypool.dspy.ExecuteOptions;
import io.pypool.dspy.JavaTool;
import io.pypool.dspy.LmConfig;
import io.pypool.dspy.ProgramSpec;
import io.pypool.testkit.PypoolExtension;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** ReAct tools implemented in Java: the LM's arguments reach the function, its result or its failure reach the LM. */
class DspyJavaToolsTest {
    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    /** What the weather tool was called with, in order. */
    private final Queue<JsonNode> asked = new ConcurrentLinkedQueue<>();

    private final JavaTool weather = JavaTool.of("weather", "The current weather in a city.", args -> {
                asked.add(args);
                String city = args.get("city").asText();
                if (city.equals("Atlantis")) {
                    throw new IllegalStateException("no weather station in " + city);
                }
                return Map.of("city", city, "temp_c", 21);
            })
            .withArg("city", JavaTool.ArgType.STRING, "the city's name")
            .withOptionalArg("unit", JavaTool.ArgType.STRING, "celsius or fahrenheit");

    private static Map<String, Object> step(String tool, Map<String, ?> args) {
        return Map.of("next_thought", "use " + tool, "next_tool_name", tool, "next_tool_args", args);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Map<String, Object> FINISH = step("finish", Map.of());

    @Test
    void theLmsArgumentsReachTheJavaFunctionAndItsResultReachesTheAnswer() throws Exception {
        Dspy dspy = Dspy.on(pools.start(JavaTool.register(DspyPools.builder(1), weather)));
        dspy.configureLm(LmConfig.dummy(List.of(step("weather", Map.of("city", "Paris")), FINISH,
                Map.of("reasoning", "the tool said 21", "answer", "21 degrees"))));
        DspyProgram agent = dspy.definePoolProgram("agent", ProgramSpec.react("question -> answer", weather));

        DspyResult r = agent.execute(Map.of("question", "How warm is Paris?"), ExecuteOptions.DEFAULTS.withLmHistory());

        assertThat(asked).hasSize(1);
        assertThat(asked.peek()).isEqualTo(JSON.valueToTree(Map.of("city", "Paris")));
        assertThat(r.node("trajectory").path("observation_0")).isEqualTo(JSON.valueToTree(Map.of("city", "Paris", "temp_c", 21)));
        assertThat(r.get("answer")).isEqualTo("21 degrees");
        // The LM was shown the tool as Java described it.
        String prompt = r.lmHistory().get(0).path("messages").toString();
        assertThat(prompt).contains("weather", "The current weather in a city.", "the city's name", "celsius or fahrenheit");
    }

    @Test
    void aJavaToolThatThrowsIsTheToolsErrorInTheTrajectoryAndTheProgramFinishes() throws Exception {
        Dspy dspy = Dspy.on(pools.start(JavaTool.register(DspyPools.builder(1), weather)));
        dspy.configureLm(LmConfig.dummy(List.of(step("weather", Map.of("city", "Atlantis")),
                step("weather", Map.of("town", "Paris")), step("weather", Map.of()), FINISH,
                Map.of("reasoning", "no data", "answer", "unknown"))));
        DspyProgram agent = dspy.definePoolProgram("agent",
                ProgramSpec.react("question -> answer", weather).withArg("max_iters", 5));

        DspyResult r = agent.execute(Map.of("question", "How warm is Atlantis?"));

        JsonNode trajectory = r.node("trajectory");
        assertThat(trajectory.path("observation_0").asText())
                .startsWith("Execution error in weather")
                .contains("java.lang.IllegalStateException: no weather station in Atlantis");
        // Arguments the tool does not declare, or leaves out, are errors the LM reads; Java never sees them.
        assertThat(trajectory.path("observation_1").asText()).contains("Arg town is not in the tool's args");
        assertThat(trajectory.path("observation_2").asText()).contains("Java tool 'weather' needs the arguments ['city']");
        assertThat(asked).hasSize(1);
        assertThat(r.get("answer")).isEqualTo("unknown");
    }

    @Test
    void pythonToolsJavaToolsAndBareJavaFunctionsMixInOneProgram() throws Exception {
        Queue<JsonNode> rawCalls = new ConcurrentLinkedQueue<>();
        PythonPoolBuilder builder = JavaTool.register(DspyPools.builder(1), weather)
                .javaFunction("shout", args -> {
                    rawCalls.add(args);
                    return args.path("text").asText().toUpperCase();
                });
        Dspy dspy = Dspy.on(pools.start(builder));
        dspy.configureLm(LmConfig.dummy(List.of(step("search", Map.of("query", "Ada")),
                step("weather", Map.of("city", "London", "unit", "celsius")),
                step("shout", Map.of("text", "hello", "times", 2)), FINISH,
                Map.of("reasoning", "all three answered", "answer", "done"))));
        try (DspySession session = dspy.newSession()) {
            DspyProgram agent = session.program("agent", ProgramSpec.react("question -> answer", "py:dspy_app.tools:search")
                    .withTools(weather).withTools("java:shout").withArg("max_iters", 5));

            DspyResult r = agent.execute(Map.of("question", "Tell me things."), ExecuteOptions.DEFAULTS.withLmHistory());

            JsonNode trajectory = r.node("trajectory");
            assertThat(trajectory.path("observation_0").asText()).isEqualTo("Ada Lovelace wrote the first program");
            assertThat(trajectory.path("observation_1").path("city").asText()).isEqualTo("London");
            assertThat(trajectory.path("observation_2").asText()).isEqualTo("HELLO");
            assertThat(asked.peek()).isEqualTo(JSON.valueToTree(Map.of("city", "London", "unit", "celsius")));
            assertThat(rawCalls.peek()).as("a bare java: tool passes whatever the LM gave")
                    .isEqualTo(JSON.valueToTree(Map.of("text", "hello", "times", 2)));
            assertThat(r.lmHistory().get(0).path("messages").toString())
                    .contains("Looks a query up", "The current weather in a city.", "A function of the Java application");
        }
    }

    @Test
    void javaToolsWorkWhenTheProgramRunsOnAThread() throws Exception {
        // TurnsLM has no aforward: the program runs on a thread, and the tool waits for Java there.
        Dspy dspy = Dspy.on(pools.start(JavaTool.register(DspyPools.builder(1), weather)));
        dspy.configureLm(LmConfig.custom("py:dspy_app.lms:TurnsLM").option("answers", List.of(
                step("weather", Map.of("city", "Oslo")), FINISH, Map.of("reasoning", "r", "answer", "cold"))));
        DspyProgram agent = dspy.definePoolProgram("agent", ProgramSpec.react("question -> answer", weather));

        DspyResult r = agent.execute(Map.of("question", "How warm is Oslo?"));

        assertThat(r.node("trajectory").path("observation_0").path("city").asText()).isEqualTo("Oslo");
        assertThat(r.get("answer")).isEqualTo("cold");
    }

    @Test
    void toolsAreCheckedWhereTheyAreDefined() {
        assertThatThrownBy(() -> JavaTool.of("two words", "d", args -> null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("letters, digits");
        assertThatThrownBy(() -> JavaTool.of("t", " ", args -> null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a description");
        assertThatThrownBy(() -> weather.withArg("city", JavaTool.ArgType.STRING, "again"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already has an argument 'city'");
        assertThatThrownBy(() -> ProgramSpec.react("q -> a", weather).withTools(weather))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'java:weather' is given twice");
        assertThatThrownBy(() -> ProgramSpec.factory("java:make"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be a reference");
        assertThatThrownBy(() -> JavaTool.register(Dspy.poolBuilder(), weather, weather))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("registered twice");
    }
}
