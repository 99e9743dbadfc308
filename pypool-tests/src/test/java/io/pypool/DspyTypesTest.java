package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pypool.dspy.Dspy;
import io.pypool.dspy.DspyResult;
import io.pypool.dspy.DspySession;
import io.pypool.dspy.FieldTypes;
import io.pypool.dspy.LmConfig;
import io.pypool.dspy.ProgramSpec;
import io.pypool.testkit.PypoolExtension;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Typed fields both ways: signatures with commas inside types, Literal, Optional, JSON Schema, dates, History. */
class DspyTypesTest {
    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    private DspySession session(List<Map<String, Object>> answers) throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        dspy.configureLm(LmConfig.dummy(answers));
        return dspy.newSession();
    }

    @Test
    void commasInsideTypesAreNotFieldSeparators() throws Exception {
        try (DspySession s = session(List.of(Map.of("b", "three"), Map.of("label", "pos")))) {
            var counted = s.program(ProgramSpec.of("a: dict[str, int] -> b"));
            assertThat(counted.inputFields()).containsExactly("a");
            assertThat(counted.execute(Map.of("a", Map.of("x", 1, "y", 2))).get("b")).isEqualTo("three");
            assertThat(s.program(ProgramSpec.of("text -> label: Literal['pos', 'neg']")).execute(Map.of("text", "good"))
                    .get("label")).isEqualTo("pos");
        }
    }

    @Test
    void typedFieldsFromTheBuilderIncludingAJsonSchemaOutput() throws Exception {
        try (DspySession s = session(List.of(Map.of("tags", List.of("a", "b"), "label", "neg", "score", "None",
                "person", Map.of("name", "Ada", "age", 36))))) {
            Map<String, Object> person = Map.of("type", "object", "title", "Person", "required", List.of("name", "age"),
                    "properties", Map.of("name", Map.of("type", "string"), "age", Map.of("type", "integer")));
            DspyResult r = s.program(ProgramSpec.builder().input("text", "the text")
                    .output("tags", FieldTypes.list("str"), "a few tags")
                    .output("label", FieldTypes.literal("pos", "neg"), null)
                    .output("score", FieldTypes.optional("int"), null)
                    .outputSchema("person", person, "who the text is about").build()).execute(Map.of("text", "t"));
            assertThat(r.node("tags").toString()).isEqualTo("[\"a\",\"b\"]");
            assertThat(r.get("label")).isEqualTo("neg");
            assertThat(r.node("score").isNull()).isTrue();
            assertThat(r.node("person").path("name").asText()).isEqualTo("Ada");
            assertThat(r.node("person").path("age").asInt()).isEqualTo(36);
        }
    }

    @Test
    void datesInsideListsComeBackAsIsoText() throws Exception {
        try (DspySession s = session(List.of(Map.of("days", List.of("2024-01-02", "2024-02-03"))))) {
            DspyResult r = s.program(ProgramSpec.of("question -> days: list[datetime.date]")).execute(Map.of("question", "when?"));
            assertThat(r.node("days").toString()).isEqualTo("[\"2024-01-02\",\"2024-02-03\"]");
        }
    }

    @Test
    void inputsBecomeTheirDeclaredTypesHistoryIncluded() throws Exception {
        try (DspySession s = session(List.of(Map.of("answer", "you said hello")))) {
            var chat = s.program(ProgramSpec.of("question, history: dspy.History -> answer"));
            Map<String, Object> history = Map.of("messages", List.of(Map.of("question", "hi", "answer", "hello")));
            assertThat(chat.execute(Map.of("question", "what did I say?", "history", history)).get("answer"))
                    .isEqualTo("you said hello");
            assertThatThrownBy(() -> chat.execute(Map.of("question", "q", "history", "not a history")))
                    .isInstanceOf(BadArgumentsException.class).hasMessageContaining("input 'history' of program");
        }
    }

    @Test
    void fieldTypesAreWrittenAsPythonAnnotations() {
        assertThat(FieldTypes.literal("it's", "b")).isEqualTo("Literal['it\\'s', 'b']");
        assertThat(FieldTypes.dict("str", FieldTypes.list("int"))).isEqualTo("dict[str, list[int]]");
        assertThatThrownBy(() -> ProgramSpec.builder().input("x", " ", null)).isInstanceOf(IllegalArgumentException.class);
    }
}
