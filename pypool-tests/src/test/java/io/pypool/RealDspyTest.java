package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pypool.dspy.Dspy;
import io.pypool.dspy.DspyResult;
import io.pypool.dspy.DspySession;
import io.pypool.dspy.LmConfig;
import io.pypool.dspy.ProgramSpec;
import io.pypool.testkit.PypoolExtension;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * pypool-dspy against real DSPy, with DSPy's own DummyLM: skipped, with the reason, where the
 * machine's python3 cannot import DSPy. See docs/DSPY.md for how to run it.
 */
class RealDspyTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @Test
    void predictAndChainOfThoughtWithDspysDummyLm() throws Exception {
        String python = PythonRuntime.resolve("python3").executable();
        Process probe = new ProcessBuilder(python, "-c", "import dspy, sys; sys.stdout.write(dspy.__version__)")
                .redirectErrorStream(true).start();
        String said = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assumeTrue(probe.waitFor() == 0, () -> "real DSPy is not importable in " + python + ": "
                + said.lines().reduce((a, b) -> b).orElse("") + " (install it with: " + python + " -m pip install dspy)");

        PythonPool pool = pools.start(Dspy.poolBuilder().workers(1));
        Dspy dspy = Dspy.on(pool);
        dspy.configureLm(LmConfig.dummy(List.of(Map.of("reasoning", "because", "answer", "42"))));
        try (DspySession session = dspy.newSession()) {
            DspyResult predicted = session.program(ProgramSpec.of("question -> answer")).execute(Map.of("question", "?"));
            assertThat(predicted.get("answer")).isEqualTo("42");
            DspyResult reasoned = session.program(ProgramSpec.of("question -> answer", ProgramSpec.ModuleType.CHAIN_OF_THOUGHT))
                    .execute(Map.of("question", "?"));
            assertThat(reasoned.get("answer")).isEqualTo("42");
            assertThat(reasoned.reasoning()).hasValue("because");
        }
    }
}
