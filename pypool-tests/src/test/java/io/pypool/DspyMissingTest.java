package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pypool.dspy.Dspy;
import io.pypool.dspy.DspySession;
import io.pypool.dspy.DspyUnavailableException;
import io.pypool.dspy.LmConfig;
import io.pypool.testkit.PypoolExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The one test without DSPy: it hides the installed DSPy on purpose (dspy_hidden first on the path). */
class DspyMissingTest {
    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @Test
    void withoutDspyEveryCommandNamesTheInterpreterAndHowToInstall() throws Exception {
        PythonPool pool = pools.start(Dspy.poolBuilder().pythonExecutable(DspyPools.python()).workers(1)
                .pythonPath(TestPools.TEST_HANDLERS.resolve("dspy_hidden")));
        var ping = pool.call("ping", null);
        assertThat(ping.path("dspy").path("available").asBoolean()).isFalse();
        assertThat(ping.path("dspy").path("error").asText()).contains("hidden on purpose");
        String python = ping.path("executable").asText();
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
