package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pypool.dspy.Dspy;
import io.pypool.dspy.DspyProgram;
import io.pypool.dspy.DspyResult;
import io.pypool.dspy.DspySession;
import io.pypool.dspy.LmConfig;
import io.pypool.dspy.PickleNotAllowedException;
import io.pypool.dspy.ProgramBuildException;
import io.pypool.dspy.ProgramSpec;
import io.pypool.testkit.PypoolExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Serving what was built in Python: optimized state from a file or from Java, users' modules, ReAct with tools. */
class DspyServeTest {
    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path dir;

    @Test
    void aProgramOptimizedInPythonIsServedWithItsDemosAndItsStateComesBack() throws Exception {
        Path state = dir.resolve("qa.json");
        assertThat(DspyPools.runPython("-m", "dspy_app.optimize", state.toString())).contains("3 demos");
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        dspy.configureLm(LmConfig.dummyByPrompt(Map.of("What is 7+7?", Map.of("answer", "14"))));
        try (DspySession session = dspy.newSession()) {
            DspyProgram qa = session.program("qa", ProgramSpec.of("question -> answer").withStateFile(state));
            assertThat(session.info("qa").demos()).isEqualTo(3);
            assertThat(qa.execute(Map.of("question", "What is 7+7?")).get("answer")).isEqualTo("14");
            JsonNode exported = session.exportState("qa");
            assertThat(exported.path("demos")).hasSize(3);
            assertThat(exported.path("demos").get(0).path("answer").asText()).isEqualTo("4");

            // The exported state, given back as JSON from Java, makes the same program.
            session.program("copy", ProgramSpec.of("question -> answer").withState(exported));
            assertThat(session.info("copy").demos()).isEqualTo(3);
        }
    }

    @Test
    void stateWrittenInJavaSetsDemosAndInstructions() throws Exception {
        JsonNode state = new ObjectMapper().readTree("""
                {"traces": [], "train": [], "lm": null,
                 "demos": [{"text": "great", "label": "pos"}],
                 "signature": {"instructions": "Label the sentiment.",
                               "fields": [{"prefix": "Text:", "description": "${text}"},
                                          {"prefix": "Label:", "description": "${label}"}]}}""");
        try (DspySession session = Dspy.on(pools.start(DspyPools.builder(1))).newSession()) {
            session.program("label", ProgramSpec.of("text -> label").withState(state));
            assertThat(session.info("label").demos()).isEqualTo(1);
            assertThat(session.info("label").instructions()).isEqualTo("Label the sentiment.");
        }
    }

    @Test
    void wholeProgramPicklesAreRefusedWithoutTheOptIn() throws Exception {
        Path whole = dir.resolve("whole");
        DspyPools.runPython("-m", "dspy_app.optimize", dir.resolve("qa.json").toString(), whole.toString());
        try (DspySession session = Dspy.on(pools.start(DspyPools.builder(1))).newSession()) {
            assertThatThrownBy(() -> session.program("p", ProgramSpec.fromPickle(whole)))
                    .isInstanceOf(PickleNotAllowedException.class).hasMessageContaining("runs arbitrary code");
            assertThat(session.listPrograms()).isEmpty();
            session.program("p", ProgramSpec.fromPickle(whole).allowPickle());
            assertThat(session.info("p").demos()).isEqualTo(3);
        }
    }

    @Test
    void reactCallsPythonToolsNamedByReference() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        dspy.configureLm(LmConfig.dummy(List.of(
                Map.of("next_thought", "look her up", "next_tool_name", "search", "next_tool_args", Map.of("query", "Ada")),
                Map.of("next_thought", "enough", "next_tool_name", "finish", "next_tool_args", Map.of()),
                Map.of("reasoning", "the tool said so", "answer", "Ada Lovelace"))));
        try (DspySession session = dspy.newSession()) {
            DspyProgram agent = session.program("agent",
                    ProgramSpec.react("question -> answer", "py:dspy_app.tools:search").withArg("max_iters", 3));
            DspyResult r = agent.execute(Map.of("question", "Who wrote the first program?"));
            assertThat(r.get("answer")).isEqualTo("Ada Lovelace");
            assertThat(r.node("trajectory").path("observation_0").asText()).isEqualTo("Ada Lovelace wrote the first program");
            assertThat(session.info("agent").moduleClass()).isEqualTo("ReAct");
        }
    }

    @Test
    void aUsersFactoryBuildsAnyModule() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        dspy.configureLm(LmConfig.dummy(List.of(Map.of("draft", "rough"), Map.of("reasoning", "r", "text", "polished"))));
        try (DspySession session = dspy.newSession()) {
            DspyProgram writer = session.program("writer", ProgramSpec.factory("py:dspy_app.agents:make_writer", Map.of("tone", "brief")));
            assertThat(writer.inputFields()).containsExactly("topic");
            assertThat(writer.execute(Map.of("topic", "pools")).get("text")).isEqualTo("polished");
            assertThat(session.info("writer").moduleClass()).isEqualTo("Writer");
            assertThatThrownBy(() -> session.program(ProgramSpec.factory("py:dspy_app.agents:no_such_factory")))
                    .isInstanceOf(ProgramBuildException.class).hasMessageContaining("has no attribute 'no_such_factory'");
        }
    }
}
