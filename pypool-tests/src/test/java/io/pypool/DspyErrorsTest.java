package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pypool.dspy.AdapterParseException;
import io.pypool.dspy.ContextWindowExceededException;
import io.pypool.dspy.Dspy;
import io.pypool.dspy.DspyCallException;
import io.pypool.dspy.DspyProgram;
import io.pypool.dspy.DspyResult;
import io.pypool.dspy.DspySession;
import io.pypool.dspy.ExecuteOptions;
import io.pypool.dspy.LmAuthException;
import io.pypool.dspy.LmCallException;
import io.pypool.dspy.LmConfig;
import io.pypool.dspy.LmConfigurationException;
import io.pypool.dspy.LmRateLimitException;
import io.pypool.dspy.LmTimeoutException;
import io.pypool.dspy.ProgramSpec;
import io.pypool.testkit.PypoolExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What goes wrong, typed: a refused LM, DSPy's own errors, deadlines; and async executes. */
class DspyErrorsTest {
    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    private static final LmConfig DUMMY = LmConfig.dummyByPrompt(Map.of("q", Map.of("answer", "still the dummy")));

    @Test
    void aRefusedLmIsNeverSavedAndEveryWorkerKeepsTheOldOne() throws Exception {
        PythonPool pool = pools.start(DspyPools.builder(2));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(DUMMY);
        assertThatThrownBy(() -> dspy.configureLm(LmConfig.model("openai/gpt-4o-mini").apiKey("k")))
                .isInstanceOf(LmConfigurationException.class).hasMessageContaining("needs LiteLLM")
                .hasMessageContaining("LmConfig.custom");
        assertThatThrownBy(() -> dspy.configureLm(LmConfig.custom("py:dspy_app.lms:RaisingLM").option("error", "NoSuchError")))
                .isInstanceOf(LmConfigurationException.class).hasMessageContaining("refused its settings");
        assertThatThrownBy(() -> dspy.configureLm(LmConfig.custom("py:dspy_app.lms:NoSuchLM")))
                .isInstanceOf(LmConfigurationException.class).hasMessageContaining("has no attribute 'NoSuchLM'");
        // A replacement worker starts with the LM that was kept, and the pool stays healthy.
        long pid = TestPools.pids(pool).get(0);
        TestPools.signal(pid, "KILL");
        await().until(() -> TestPools.allReady(pool, 2) && !TestPools.pids(pool).contains(pid));
        assertThat(pool.health().status()).isEqualTo(PoolHealth.Status.HEALTHY);
        DspyPools.pingEachWorker(pool, 2).values().forEach(d -> {
            assertThat(d.path("lm").asText()).isEqualTo("pypool/dummy");
            assertThat(d.path("lm_check").path("backend").asText()).isEqualTo("dummy");
        });
        try (DspySession session = dspy.newSession()) {
            assertThat(session.program("question -> answer").execute(Map.of("question", "q")).get("answer"))
                    .isEqualTo("still the dummy");
        }
    }

    @Test
    void eachOfDspysLmErrorsArrivesAsItsOwnJavaException() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        Map<String, Class<? extends DspyCallException>> expected = Map.of(
                "LMRateLimitError", LmRateLimitException.class,
                "ContextWindowExceededError", ContextWindowExceededException.class,
                "LMAuthError", LmAuthException.class,
                "LMTimeoutError", LmTimeoutException.class,
                "LMServerError", LmCallException.class);
        try (DspySession session = dspy.newSession()) {
            DspyProgram qa = session.program("qa", ProgramSpec.of("question -> answer"));
            for (var e : expected.entrySet()) {
                dspy.configureLm(LmConfig.custom("py:dspy_app.lms:RaisingLM").option("error", e.getKey()));
                assertThatThrownBy(() -> qa.execute(Map.of("question", "q")))
                        .as(e.getKey()).isExactlyInstanceOf(e.getValue())
                        .hasMessageStartingWith("program 'qa': " + e.getKey())
                        .satisfies(t -> assertThat(((DspyCallException) t).dspyType()).isEqualTo(e.getKey()));
            }
            dspy.configureLm(LmConfig.custom("py:dspy_app.lms:RaisingLM").option("error", "LMRateLimitError"));
            LmRateLimitException limited = (LmRateLimitException) catchFrom(() -> qa.execute(Map.of("question", "q")));
            assertThat(limited.retryAfter()).hasValue(Duration.ofMillis(1500));
            assertThat(limited.status()).hasValue(429);
            assertThat(limited.code()).hasValue("rate_limit");
            assertThat(limited.dspyTypes()).contains("LMProviderError", "LMError", "DSPyError");
        }
    }

    @Test
    void anUnparseableReplyCarriesTheRawLmResponse() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        dspy.configureLm(LmConfig.custom("py:dspy_app.lms:RaisingLM").option("reply", "I refuse to use your format"));
        try (DspySession session = dspy.newSession()) {
            DspyProgram qa = session.program("qa", ProgramSpec.of("question -> answer"));
            AdapterParseException e = (AdapterParseException) catchFrom(() -> qa.execute(Map.of("question", "q")));
            assertThat(e.lmResponse()).isEqualTo("I refuse to use your format");
            assertThat(e.getMessage()).doesNotContain("--pypool-dspy-details--");
        }
    }

    @Test
    void aPerCallTimeoutEndsTheWaitAndTheWorkerServesOn() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        dspy.configureLm(LmConfig.custom("py:dspy_app.lms:SlowLM").option("delay", 5.0));
        try (DspySession session = dspy.newSession()) {
            DspyProgram qa = session.program("qa", ProgramSpec.of("question -> answer"));
            assertThatThrownBy(() -> qa.execute(Map.of("question", "q"), ExecuteOptions.timeout(Duration.ofMillis(300))))
                    .isInstanceOf(CallTimeoutException.class);
            ExecutionException async = (ExecutionException) catchFrom(() ->
                    qa.executeAsync(Map.of("question", "q"), ExecuteOptions.timeout(Duration.ofMillis(300))).get());
            assertThat(async.getCause()).isInstanceOf(CallTimeoutException.class);
            dspy.configureLm(LmConfig.custom("py:dspy_app.lms:SlowLM").option("delay", 0.0));
            assertThat(qa.execute(Map.of("question", "q")).get("answer")).isEqualTo("slow answer");
        }
    }

    @Test
    void manyAsyncExecutesAtOnceOnOneWorkerAndSeveralCompletions() throws Exception {
        Dspy dspy = Dspy.on(pools.start(DspyPools.builder(1)));
        dspy.configureLm(LmConfig.custom("py:dspy_app.lms:SlowLM").option("delay", 0.2));
        DspyProgram cot = dspy.definePoolProgram("cot", ProgramSpec.of("question -> answer", ProgramSpec.ModuleType.CHAIN_OF_THOUGHT));
        List<CompletableFuture<DspyResult>> runs = IntStream.range(0, 16)
                .mapToObj(i -> cot.executeAsync(Map.of("question", "q" + i))).toList();
        for (CompletableFuture<DspyResult> run : runs) {
            DspyResult r = run.get();
            assertThat(r.get("answer")).isEqualTo("slow answer");
            assertThat(r.reasoning()).hasValue("thought");
            assertThat(r.usage().orElseThrow().path("test/slow").path("total_tokens").asInt()).isEqualTo(15);
        }
        dspy.configureLm(LmConfig.dummy(List.of(Map.of("answer", "one"), Map.of("answer", "two"))));
        try (DspySession session = dspy.newSession()) {
            DspyResult two = session.program(ProgramSpec.of("question -> answer"))
                    .execute(Map.of("question", "q"), ExecuteOptions.DEFAULTS.completions(2));
            assertThat(two.completions()).extracting(c -> c.get("answer").asText()).containsExactly("one", "two");
        }
    }

    private static Throwable catchFrom(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        return org.assertj.core.api.Assertions.catchThrowable(call);
    }
}
