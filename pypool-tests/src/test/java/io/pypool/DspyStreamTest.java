package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pypool.dspy.Dspy;
import io.pypool.dspy.DspyChunk;
import io.pypool.dspy.DspyProgram;
import io.pypool.dspy.DspySession;
import io.pypool.dspy.JavaTool;
import io.pypool.dspy.LmConfig;
import io.pypool.dspy.LmNotConfiguredException;
import io.pypool.dspy.LmRateLimitException;
import io.pypool.dspy.ProgramNotFoundException;
import io.pypool.dspy.ProgramSpec;
import io.pypool.testkit.PypoolExtension;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Executions streamed as chunks: tokens where the LM streams, DSPy's status messages, then the prediction. */
class DspyStreamTest {
    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    /** An LM answer: its fields in this order (the order the LM writes, and streams, them in). */
    private static Map<String, Object> answer(String... fieldsAndValues) {
        Map<String, Object> fields = new LinkedHashMap<>();
        for (int i = 0; i < fieldsAndValues.length; i += 2) {
            fields.put(fieldsAndValues[i], fieldsAndValues[i + 1]);
        }
        return fields;
    }

    /** StreamingLM streams each answer the way dspy.LM streams LiteLLM's chunks. */
    private static LmConfig streaming(List<Map<String, Object>> answers) {
        return LmConfig.custom("py:dspy_app.lms:StreamingLM").option("answers", answers);
    }

    private static List<DspyChunk> all(DspyProgram program, Map<String, ?> inputs) {
        try (Stream<DspyChunk> chunks = program.stream(inputs)) {
            return chunks.toList();
        }
    }

    private static String text(List<DspyChunk> chunks, String predictor, String field) {
        return chunks.stream().filter(c -> c.type() == DspyChunk.Type.TOKEN && c.predictor().equals(predictor)
                && c.field().equals(field)).map(DspyChunk::text).collect(Collectors.joining()).strip();
    }

    @Test
    void tokensOfEachFieldThenThePredictionThatExecuteGivesToo() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        dspy.configureLm(streaming(List.of(answer("reasoning", "Paris is the capital", "answer", "Paris is big"))));
        DspyProgram cot = dspy.definePoolProgram("cot", ProgramSpec.of("question -> answer", ProgramSpec.ModuleType.CHAIN_OF_THOUGHT));

        List<DspyChunk> chunks = all(cot, Map.of("question", "Tell me about Paris."));

        assertThat(text(chunks, "predict", "reasoning")).isEqualTo("Paris is the capital");
        assertThat(text(chunks, "predict", "answer")).isEqualTo("Paris is big");
        assertThat(chunks.stream().filter(c -> c.type() == DspyChunk.Type.TOKEN).count())
                .as("several tokens per field, not one block").isGreaterThan(4);
        List<String> fieldsInOrder = chunks.stream().filter(c -> c.type() == DspyChunk.Type.TOKEN)
                .map(DspyChunk::field).distinct().toList();
        assertThat(fieldsInOrder).containsExactly("reasoning", "answer");
        DspyChunk last = chunks.get(chunks.size() - 1);
        assertThat(last.type()).isEqualTo(DspyChunk.Type.PREDICTION);
        assertThat(chunks.stream().filter(c -> c.type() == DspyChunk.Type.PREDICTION)).hasSize(1);
        var executed = cot.execute(Map.of("question", "Tell me about Paris."));
        assertThat(last.result().outputs()).isEqualTo(executed.outputs());
        assertThat(last.result().reasoning()).isEqualTo(executed.reasoning()).contains("Paris is the capital");
        assertThat(last.result().usage()).isEqualTo(executed.usage());
    }

    @Test
    void withDummyLmAReactStreamIsStatusMessagesAroundToolCallsThenThePrediction() throws Exception {
        JavaTool weather = JavaTool.of("weather", "The current weather in a city.", args -> Map.of("temp_c", 21))
                .withArg("city", JavaTool.ArgType.STRING, "the city's name");
        Dspy dspy = Dspy.on(pools.start(JavaTool.register(DspyPools.builder(1), weather)));
        dspy.configureLm(LmConfig.dummy(List.of(
                Map.of("next_thought", "ask", "next_tool_name", "weather", "next_tool_args", Map.of("city", "Paris")),
                Map.of("next_thought", "done", "next_tool_name", "finish", "next_tool_args", Map.of()),
                Map.of("reasoning", "21", "answer", "warm"))));
        try (DspySession session = dspy.newSession()) {
            DspyProgram agent = session.program("agent", ProgramSpec.react("question -> answer", weather));

            List<DspyChunk> chunks = all(agent, Map.of("question", "How warm is Paris?"));

            // DummyLM does not stream: no tokens, only what DSPy says around the tool call, and the prediction.
            assertThat(chunks).extracting(DspyChunk::type).containsExactly(
                    DspyChunk.Type.STATUS, DspyChunk.Type.STATUS, DspyChunk.Type.PREDICTION);
            assertThat(chunks.get(0).text()).isEqualTo("Calling tool weather...");
            assertThat(chunks.get(1).text()).startsWith("Tool calling finished!");
            assertThat(chunks.get(2).result().get("answer")).isEqualTo("warm");
            assertThat(chunks.get(2).result().node("trajectory").path("observation_0").path("temp_c").asInt()).isEqualTo(21);
        }
    }

    @Test
    void aModuleWithoutAforwardRunsOnAThreadAndStreamsItsTokensToo() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        dspy.configureLm(streaming(List.of(answer("draft", "a rough draft"), answer("reasoning", "tighten it", "text", "A draft."))));
        DspyProgram writer = dspy.definePoolProgram("writer", ProgramSpec.factory("py:dspy_app.agents:make_writer"));

        List<DspyChunk> chunks = all(writer, Map.of("topic", "pools"));

        assertThat(text(chunks, "draft", "draft")).isEqualTo("a rough draft");
        assertThat(text(chunks, "polish.predict", "text")).isEqualTo("A draft.");
        assertThat(chunks.get(chunks.size() - 1).result().get("text")).isEqualTo("A draft.");
    }

    @Test
    void closingTheStreamEarlyCancelsTheExecutionInTheWorker() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(1).handlerModules("dspy_app.probes"));
        Dspy dspy = Dspy.on(pool);
        // Five pieces make the field's marker, the sixth is its first word; then the LM waits until cancelled.
        dspy.configureLm(streaming(List.of(Map.of("answer", "Partial answer never finished"))).option("hang_after", 6));
        DspyProgram qa = dspy.definePoolProgram("qa", ProgramSpec.of("question -> answer"));

        try (Stream<DspyChunk> chunks = qa.stream(Map.of("question", "?"))) {
            Iterator<DspyChunk> it = chunks.iterator();
            DspyChunk first = it.next();
            assertThat(first.type()).isEqualTo(DspyChunk.Type.TOKEN);
            assertThat(first.text()).isEqualTo("Partial ");
        }

        assertThat(pool.call("dspy_app.lm_cancelled", Map.of("timeout_s", 30), Boolean.class))
                .as("the LM, waiting mid-answer, was cancelled").isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> pool.stats().workers().get(0).inFlight() == 0);
    }

    @Test
    void failuresAreTheTypedExceptionsOfExecute() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        DspyProgram qa = dspy.definePoolProgram("qa", ProgramSpec.of("question -> answer"));
        assertThatThrownBy(() -> all(qa, Map.of("question", "?"))).isInstanceOf(LmNotConfiguredException.class);

        dspy.configureLm(LmConfig.custom("py:dspy_app.lms:RaisingLM").option("error", "LMRateLimitError"));
        assertThatThrownBy(() -> all(qa, Map.of("question", "?"))).isInstanceOf(LmRateLimitException.class)
                .hasMessageContaining("slow down");
        assertThatThrownBy(() -> all(qa, Map.of("nope", "?"))).isInstanceOf(BadArgumentsException.class)
                .hasMessageContaining("missing ['question']");
        try (DspySession session = dspy.newSession()) {
            DspyProgram mine = session.program("mine", ProgramSpec.of("question -> answer"));
            session.delete("mine");
            assertThatThrownBy(() -> all(mine, Map.of("question", "?"))).isInstanceOf(ProgramNotFoundException.class);
        }
    }

    @Test
    void aSessionThatExpiredIsOpenedAgainWithItsProgramsBeforeItsStream() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(1).sessionIdleTtl(Duration.ofMillis(300)));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(streaming(List.of(Map.of("answer", "still here"))));
        DspySession session = dspy.session("expiring");
        DspyProgram qa = session.program("qa", ProgramSpec.of("question -> answer"));
        await().until(() -> pool.stats().sessions() == 0);

        List<DspyChunk> chunks = all(qa, Map.of("question", "?"));

        assertThat(chunks.get(chunks.size() - 1).result().get("answer")).isEqualTo("still here");
        assertThat(session.listPrograms()).containsExactly("qa");
    }
}
