package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pypool.dspy.Dspy;
import io.pypool.dspy.DspyProgram;
import io.pypool.dspy.DspyResult;
import io.pypool.dspy.DspySession;
import io.pypool.dspy.DspyUnavailableException;
import io.pypool.dspy.LmConfig;
import io.pypool.dspy.LmNotConfiguredException;
import io.pypool.dspy.ProgramInfo;
import io.pypool.dspy.ProgramNotFoundException;
import io.pypool.dspy.ProgramSpec;
import io.pypool.testkit.PypoolExtension;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * pypool-dspy against the DSPy stand-in in src/test/python/dspy_standin (DSPy itself cannot be
 * installed here; RealDspyTest runs the same path against real DSPy where it can).
 */
class DspyTest {
    static final java.nio.file.Path STANDIN = TestPools.TEST_HANDLERS.resolve("dspy_standin");

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    private PythonPool dspyPool(int workers) {
        return pools.start(Dspy.poolBuilder().workers(workers).pythonPath(TestPools.TEST_HANDLERS, STANDIN)
                .handlerModules("pypool_test_handlers").startupTimeout(Duration.ofSeconds(60)));
    }

    private static long workerPidOf(PythonPool pool, DspySession session) throws Exception {
        return pool.session(session.id()).call("t.pid", null, Long.class);
    }

    @Test
    void createExecuteListInfoDeleteInTwoSessionsAtOnce() throws Exception {
        PythonPool pool = dspyPool(2);
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LmConfig.model("standin/lm-1").temperature(0.0).maxTokens(100));
        List<CompletableFuture<String>> runs = List.of("alice", "bob").stream().map(name -> CompletableFuture.supplyAsync(() -> {
            try (DspySession session = dspy.session(name)) {
                DspyProgram qa = session.program("qa", ProgramSpec.of("question -> answer"));
                DspyResult r = qa.execute(Map.of("question", "who is " + name));
                assertThat(r.get("answer")).isEqualTo("answer from standin/lm-1 for question=who is " + name);
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
    void sessionsNeverSeeEachOthersPrograms() throws Exception {
        PythonPool pool = dspyPool(1);
        Dspy dspy = Dspy.on(pool);
        try (DspySession a = dspy.session("a"); DspySession b = dspy.session("b")) {
            a.program("only-in-a", ProgramSpec.of("x -> y"));
            assertThat(b.listPrograms()).isEmpty();
            assertThatThrownBy(() -> b.info("only-in-a")).isInstanceOf(ProgramNotFoundException.class)
                    .hasMessageContaining("session 'b' has no program 'only-in-a'");
        }
    }

    @Test
    void programStillAnswersAfterItsWorkerWasKilled() throws Exception {
        PythonPool pool = dspyPool(2);
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LmConfig.model("standin/durable"));
        try (DspySession session = dspy.session("survivor")) {
            DspyProgram qa = session.program("qa", ProgramSpec.builder().input("question", "what to answer")
                    .output("answer", "a short answer").instructions("Be brief.").chainOfThought().build());
            assertThat(qa.execute(Map.of("question", "q1")).get("answer")).contains("standin/durable");
            long pid = workerPidOf(pool, session);
            TestPools.signal(pid, "KILL");
            await().until(() -> !TestPools.alive(pid));
            DspyResult after = qa.execute(Map.of("question", "q2"));
            assertThat(after.get("answer")).isEqualTo("answer from standin/durable for question=q2");
            assertThat(after.reasoning()).hasValue("standin/durable reasoned about question=q2");
            assertThat(workerPidOf(pool, session)).isNotEqualTo(pid);
            assertThat(session.listPrograms()).containsExactly("qa");
            assertThat(session.info("qa").instructions()).isEqualTo("Be brief.");
        }
    }

    @Test
    void lmConfiguredBeforeARestartIsStillInForceAfterIt() throws Exception {
        PythonPool pool = dspyPool(2);
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LmConfig.model("standin/before-restart"));
        List<Long> old = TestPools.pids(pool);
        for (long pid : old) {
            TestPools.signal(pid, "KILL");
        }
        await().until(() -> TestPools.allReady(pool, 2) && TestPools.pids(pool).stream().noneMatch(old::contains));
        Set<Long> pids = new HashSet<>();
        // Two sessions open at once are pinned to the two workers (fewest sessions first).
        try (DspySession first = dspy.newSession(); DspySession second = dspy.newSession()) {
            for (DspySession s : List.of(first, second)) {
                String answer = s.program(ProgramSpec.of("question -> answer")).execute(Map.of("question", "q")).get("answer");
                assertThat(answer).contains("standin/before-restart");
                pids.add(workerPidOf(pool, s));
            }
        }
        assertThat(pids).as("both replacement workers answered").hasSize(2);
    }

    @Test
    void lmReachesEveryWorkerNotOnlyTheOneThatServedTheCall() throws Exception {
        PythonPool pool = dspyPool(3);
        Dspy.on(pool).configureLm(LmConfig.model("standin/everywhere"));
        Set<Long> answered = new HashSet<>();
        // Three sessions are pinned to three different workers (fewest sessions first): ask each.
        for (int i = 0; i < 3; i++) {
            var ping = pool.session("probe-" + i).call("ping", null);
            assertThat(ping.path("dspy").path("lm").asText()).isEqualTo("standin/everywhere");
            answered.add(ping.path("pid").asLong());
        }
        assertThat(answered).hasSize(3);
    }

    @Test
    void badSignaturesAndMissingInputsGiveClearErrors() throws Exception {
        PythonPool pool = dspyPool(1);
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LmConfig.model("standin/strict"));
        try (DspySession session = dspy.newSession()) {
            assertThatThrownBy(() -> session.program(ProgramSpec.of("question -> answer -> more")))
                    .isInstanceOf(BadArgumentsException.class).hasMessageContaining("exactly one '->'");
            assertThatThrownBy(() -> session.program(ProgramSpec.of("what is this? -> answer")))
                    .isInstanceOf(BadArgumentsException.class).hasMessageContaining("invalid inputs");
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
        PythonPool pool = dspyPool(1);
        try (DspySession session = Dspy.on(pool).newSession()) {
            DspyProgram qa = session.program("question -> answer");
            assertThatThrownBy(() -> qa.execute(Map.of("question", "q")))
                    .isInstanceOf(LmNotConfiguredException.class).hasMessageContaining("configure_lm");
        }
    }

    @Test
    void withoutDspyEveryCommandNamesTheInterpreterAndHowToInstall() throws Exception {
        PythonPool pool = pools.start(Dspy.poolBuilder().workers(1));
        assertThat(pool.call("ping", null).path("dspy").path("available").asBoolean()).isFalse();
        String python = pool.call("ping", null).path("executable").asText();
        Dspy dspy = Dspy.on(pool);
        assertThatThrownBy(() -> dspy.configureLm(LmConfig.model("openai/gpt-4o-mini")))
                .isInstanceOf(DspyUnavailableException.class)
                .hasMessageContaining("DSPy is not importable in " + python)
                .hasMessageContaining(python + " -m pip install dspy");
        try (DspySession session = dspy.newSession()) {
            assertThatThrownBy(() -> session.program("question -> answer")).isInstanceOf(DspyUnavailableException.class);
        }
    }
}
