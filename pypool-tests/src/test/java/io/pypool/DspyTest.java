package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pypool.dspy.Dspy;
import io.pypool.dspy.DspyProgram;
import io.pypool.dspy.DspyResult;
import io.pypool.dspy.DspySession;
import io.pypool.dspy.ExecuteOptions;
import io.pypool.dspy.LmConfig;
import io.pypool.dspy.LmNotConfiguredException;
import io.pypool.dspy.ProgramInfo;
import io.pypool.dspy.ProgramNotFoundException;
import io.pypool.dspy.ProgramSpec;
import io.pypool.testkit.PypoolExtension;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** pypool-dspy's commands against real DSPy, with DSPy's own DummyLM (see DspyPools for the interpreter). */
class DspyTest {
    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    static long workerPidOf(PythonPool pool, DspySession session) throws Exception {
        return pool.session(session.id()).call("t.pid", null, Long.class);
    }

    private static Map<String, Object> answer(String answer) {
        return Map.of("reasoning", "thought about it", "answer", answer);
    }

    @Test
    void createExecuteListInfoDeleteInTwoSessionsAtOnce() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(2));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LmConfig.dummyByPrompt(Map.of("who is alice", answer("Alice!"), "who is bob", answer("Bob!"))));
        List<CompletableFuture<String>> runs = List.of("alice", "bob").stream().map(name -> CompletableFuture.supplyAsync(() -> {
            try (DspySession session = dspy.session(name)) {
                DspyProgram qa = session.program("qa", ProgramSpec.of("question -> answer"));
                assertThat(qa.execute(Map.of("question", "who is " + name)).get("answer"))
                        .isEqualTo(name.substring(0, 1).toUpperCase() + name.substring(1) + "!");
                assertThat(session.listPrograms()).containsExactly("qa");
                ProgramInfo info = session.info("qa");
                assertThat(info.inputs()).containsExactly("question");
                assertThat(info.outputs()).containsExactly("answer");
                assertThat(info.moduleType()).isEqualTo("predict");
                session.program("summarize-" + name, ProgramSpec.of("text -> summary"));
                assertThat(session.listPrograms()).containsExactlyInAnyOrder("qa", "summarize-" + name);
                assertThat(session.delete("qa")).isTrue();
                assertThat(session.delete("qa")).isFalse();
                assertThat(session.listPrograms()).containsExactly("summarize-" + name);
                assertThatThrownBy(() -> qa.execute(Map.of("question", "?")))
                        .isInstanceOf(ProgramNotFoundException.class).hasMessageContaining("has no program 'qa'");
                return name;
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        })).toList();
        for (CompletableFuture<String> run : runs) {
            assertThat(run.get()).isIn("alice", "bob");
        }
    }

    @Test
    void anExecuteCanReturnItsOwnLmCallsAndNoOneElses() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(1));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LmConfig.dummyByPrompt(Map.of("who is alice", answer("Alice!"), "who is bob", answer("Bob!"))));
        try (DspySession a = dspy.session("a"); DspySession b = dspy.session("b")) {
            DspyProgram qaA = a.program("qa", ProgramSpec.of("question -> answer"));
            DspyProgram qaB = b.program("qa", ProgramSpec.of("question -> answer"));
            CompletableFuture<DspyResult> fromA = qaA.executeAsync(Map.of("question", "who is alice"),
                    ExecuteOptions.DEFAULTS.withLmHistory());
            CompletableFuture<DspyResult> fromB = qaB.executeAsync(Map.of("question", "who is bob"),
                    ExecuteOptions.DEFAULTS.withLmHistory());
            for (var run : List.of(Map.entry(fromA.get(), "alice"), Map.entry(fromB.get(), "bob"))) {
                DspyResult result = run.getKey();
                assertThat(result.lmHistory()).hasSize(1);
                String call = result.lmHistory().get(0).toString();
                assertThat(call).contains("who is " + run.getValue())
                        .doesNotContain("who is " + (run.getValue().equals("alice") ? "bob" : "alice"));
                assertThat(result.lmHistory().get(0).path("model").asText()).isNotEmpty();
            }
            assertThat(qaA.execute(Map.of("question", "who is alice")).lmHistory()).isEmpty(); // only when asked
        }
    }

    @Test
    void predictAndChainOfThoughtEachGetTheirOwnAnswer() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        // One LM call each: Predict takes the first answer, ChainOfThought the second.
        dspy.configureLm(LmConfig.dummy(List.of(Map.of("answer", "42"), answer("43"))));
        try (DspySession session = dspy.newSession()) {
            DspyResult predicted = session.program(ProgramSpec.of("question -> answer")).execute(Map.of("question", "?"));
            assertThat(predicted.get("answer")).isEqualTo("42");
            assertThat(predicted.reasoning()).isEmpty();
            DspyResult reasoned = session.program(ProgramSpec.of("question -> answer", ProgramSpec.ModuleType.CHAIN_OF_THOUGHT))
                    .execute(Map.of("question", "?"));
            assertThat(reasoned.get("answer")).isEqualTo("43");
            assertThat(reasoned.reasoning()).hasValue("thought about it");
            assertThat(reasoned.usage()).isPresent();
        }
    }

    @Test
    void sessionsNeverSeeEachOthersPrograms() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        try (DspySession a = dspy.session("a"); DspySession b = dspy.session("b")) {
            a.program("only-in-a", ProgramSpec.of("x -> y"));
            assertThat(b.listPrograms()).isEmpty();
            assertThatThrownBy(() -> b.info("only-in-a")).isInstanceOf(ProgramNotFoundException.class)
                    .hasMessageContaining("session 'b' has no program 'only-in-a'");
        }
    }

    @Test
    void lmReachesEveryWorkerAndEveryReplacement() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(2));
        Dspy.on(pool).configureLm(LmConfig.dummy(List.of(answer("x"))));
        List<Long> old = TestPools.pids(pool);
        assertThat(lmOnEachWorker(pool, "before")).containsOnly("pypool/dummy");
        for (long pid : old) {
            TestPools.signal(pid, "KILL");
        }
        await().until(() -> TestPools.allReady(pool, 2) && TestPools.pids(pool).stream().noneMatch(old::contains));
        assertThat(lmOnEachWorker(pool, "after")).containsOnly("pypool/dummy");
    }

    private static Set<String> lmOnEachWorker(PythonPool pool, String tag) throws Exception {
        Set<String> lms = new HashSet<>();
        DspyPools.pingEachWorker(pool, 2).values().forEach(d -> lms.add(d.path("lm").asText()));
        return lms;
    }

    @Test
    void badSignaturesAndMissingInputsGiveClearErrors() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        dspy.configureLm(LmConfig.dummy(List.of(answer("x"))));
        try (DspySession session = dspy.newSession()) {
            assertThatThrownBy(() -> session.program(ProgramSpec.of("question -> answer -> more")))
                    .isInstanceOf(BadArgumentsException.class).hasMessageContaining("exactly one '->'");
            assertThatThrownBy(() -> session.program(ProgramSpec.of("what is this? -> answer")))
                    .isInstanceOf(BadArgumentsException.class).hasMessageContaining("DSPy rejected signature 'what is this? -> answer'");
            DspyProgram qa = session.program(ProgramSpec.of("question, context -> answer"));
            assertThatThrownBy(() -> qa.execute(Map.of("question", "q")))
                    .isInstanceOf(BadArgumentsException.class)
                    .hasMessageContaining("takes inputs ['question', 'context']").hasMessageContaining("missing ['context']");
            assertThatThrownBy(() -> qa.execute(Map.of("question", "q", "context", "c", "extra", 1)))
                    .isInstanceOf(BadArgumentsException.class).hasMessageContaining("unknown ['extra']");
            assertThatThrownBy(() -> ProgramSpec.of("no arrow")).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void runningBeforeAnLmIsConfiguredSaysWhatToDo() throws Exception {
        try (DspySession session = Dspy.on(pools.start(DspyPools.builder(1))).newSession()) {
            DspyProgram qa = session.program("question -> answer");
            assertThatThrownBy(() -> qa.execute(Map.of("question", "q")))
                    .isInstanceOf(LmNotConfiguredException.class).hasMessageContaining("configure_lm");
        }
    }
}
