package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pypool.dspy.Dspy;
import io.pypool.dspy.DspyProgram;
import io.pypool.dspy.DspySession;
import io.pypool.dspy.LmConfig;
import io.pypool.dspy.ProgramBuildException;
import io.pypool.dspy.ProgramSpec;
import io.pypool.dspy.SessionProgramsLostException;
import io.pypool.testkit.PypoolExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Programs outlive their worker's copy: session expiry and eviction, lost workers, pool-wide programs. */
class DspyProgramsThatLastTest {
    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path dir;

    private static final LmConfig LM = LmConfig.dummyByPrompt(Map.of("What is 7+7?", Map.of("reasoning", "r", "answer", "14")));

    private Path optimizedState() throws Exception {
        Path state = dir.resolve("qa.json");
        DspyPools.runPython("-m", "dspy_app.optimize", state.toString());
        return state;
    }

    @Test
    void sessionProgramsComeBackAfterTheSessionExpired() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(1).sessionIdleTtl(Duration.ofMillis(300)));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LM);
        DspySession session = dspy.session("expiring");
        DspyProgram qa = session.program("qa", ProgramSpec.of("question -> answer").withStateFile(optimizedState()));
        await().until(() -> pool.stats().sessions() == 0);
        assertThat(qa.execute(Map.of("question", "What is 7+7?")).get("answer")).isEqualTo("14");
        assertThat(session.info("qa").demos()).as("the state came back with the program").isEqualTo(3);
    }

    @Test
    void sessionProgramsComeBackAfterTheSessionWasEvicted() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(1).maxSessions(1));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LM);
        DspySession first = dspy.session("first");
        DspyProgram qa = first.program("qa", ProgramSpec.of("question -> answer"));
        DspySession second = dspy.session("second");
        second.program("other", ProgramSpec.of("x -> y"));
        await().until(() -> pool.stats().sessions() == 1); // the least recently used, "first", is gone
        assertThat(qa.execute(Map.of("question", "What is 7+7?")).get("answer")).isEqualTo("14");
        assertThat(first.listPrograms()).containsExactly("qa");
    }

    @Test
    void programsThatCannotBeRebuiltFailSayingExactlyThat() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(1).sessionIdleTtl(Duration.ofMillis(300)));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LM);
        Path state = optimizedState();
        DspySession session = dspy.session("doomed");
        DspyProgram qa = session.program("qa", ProgramSpec.of("question -> answer").withStateFile(state));
        Files.delete(state);
        await().until(() -> pool.stats().sessions() == 0);
        assertThatThrownBy(() -> qa.execute(Map.of("question", "What is 7+7?")))
                .isInstanceOf(SessionProgramsLostException.class)
                .hasMessageContaining("session 'doomed' was lost")
                .hasMessageContaining("its programs [qa] could not be rebuilt")
                .hasMessageContaining("no state file '" + state.toAbsolutePath() + "'");
    }

    @Test
    void aLostWorkersProgramsComeBackWithTheirDemos() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(2));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LM);
        try (DspySession session = dspy.session("survivor")) {
            DspyProgram qa = session.program("qa", ProgramSpec.of("question -> answer", ProgramSpec.ModuleType.PREDICT)
                    .withState(stateOf(session, optimizedState())));
            long pid = DspyTest.workerPidOf(pool, session);
            TestPools.signal(pid, "KILL");
            await().until(() -> !TestPools.alive(pid));
            assertThat(qa.execute(Map.of("question", "What is 7+7?")).get("answer")).isEqualTo("14");
            assertThat(DspyTest.workerPidOf(pool, session)).isNotEqualTo(pid);
            assertThat(session.info("qa").demos()).isEqualTo(3);
            assertThat(session.exportState("qa").path("demos")).hasSize(3);
        }
    }

    /** The state of a file, read through a throwaway program: JSON as Java would hold it. */
    private static com.fasterxml.jackson.databind.JsonNode stateOf(DspySession session, Path file) throws Exception {
        session.program("loader", ProgramSpec.of("question -> answer").withStateFile(file));
        com.fasterxml.jackson.databind.JsonNode state = session.exportState("loader");
        session.delete("loader");
        return state;
    }

    @Test
    void poolProgramsAreOnEveryWorkerReplacementsIncludedAndAnswerAnyCaller() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(2));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LM);
        DspyProgram shared = dspy.definePoolProgram("shared", ProgramSpec.of("question -> answer").withStateFile(optimizedState()));
        assertThat(poolProgramsOnEachWorker(pool, "before")).containsOnly(List.of("shared"));
        assertThat(shared.execute(Map.of("question", "What is 7+7?")).get("answer")).isEqualTo("14");
        try (DspySession session = dspy.newSession()) {
            assertThat(session.poolProgram("shared").execute(Map.of("question", "What is 7+7?")).get("answer")).isEqualTo("14");
        }
        List<Long> old = TestPools.pids(pool);
        TestPools.signal(old.get(0), "KILL");
        await().until(() -> TestPools.allReady(pool, 2) && !TestPools.pids(pool).contains(old.get(0)));
        assertThat(poolProgramsOnEachWorker(pool, "after")).containsOnly(List.of("shared"));
        assertThat(dspy.exportPoolState("shared").path("demos")).hasSize(3);

        dspy.dropPoolProgram("shared");
        assertThat(poolProgramsOnEachWorker(pool, "dropped")).containsOnly(List.of());
    }

    @Test
    void aPoolProgramThatCannotBeBuiltIsRefusedBeforeAnyWorkerKeepsIt() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(2));
        Dspy dspy = Dspy.on(pool);
        assertThatThrownBy(() -> dspy.definePoolProgram("broken", ProgramSpec.factory("py:dspy_app.agents:nope")))
                .isInstanceOf(ProgramBuildException.class).hasMessageContaining("has no attribute 'nope'");
        long pid = TestPools.pids(pool).get(0);
        TestPools.signal(pid, "KILL");
        await().until(() -> TestPools.allReady(pool, 2) && !TestPools.pids(pool).contains(pid));
        assertThat(pool.health().status()).isEqualTo(PoolHealth.Status.HEALTHY);
        assertThat(poolProgramsOnEachWorker(pool, "after")).containsOnly(List.of());
    }

    /** Each worker's pool-wide programs, from its ping. */
    private static Set<List<String>> poolProgramsOnEachWorker(PythonPool pool, String tag) throws Exception {
        Set<List<String>> programs = new HashSet<>();
        for (var dspy : DspyPools.pingEachWorker(pool, 2).values()) {
            List<String> names = new java.util.ArrayList<>();
            dspy.path("pool_programs").forEach(n -> names.add(n.asText()));
            programs.add(names);
        }
        return programs;
    }
}
