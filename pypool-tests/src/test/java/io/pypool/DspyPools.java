package io.pypool;

import static org.junit.jupiter.api.Assertions.fail;

import io.pypool.dspy.Dspy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;

/**
 * Pools for the DSPy tests, on the interpreter with real DSPy that {@code -Dpypool.dspyPython}
 * names (.ci/run makes one). Without it the DSPy tests fail in CI ({@code CI} set) and are
 * skipped elsewhere, saying how to run them.
 */
final class DspyPools {
    /** The tests' DSPy application: LMs, tools, program factories ({@code dspy_app}). */
    static final Path APP = TestPools.TEST_HANDLERS;

    private DspyPools() {}

    static String python() {
        String python = System.getProperty("pypool.dspyPython", "").strip();
        String how = "give an interpreter with DSPy 3.3.1 as -Dpypool.dspyPython=PATH (bash .ci/run makes target/dspy-venv: "
                + "python3 -m venv target/dspy-venv && ../shared/wheels/install-dspy target/dspy-venv/bin/python)";
        if (python.isEmpty()) {
            String ci = System.getenv("CI");
            if (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false")) {
                fail("the real-DSPy tests must run in CI: " + how);
            }
            Assumptions.abort("real-DSPy test skipped: " + how);
        }
        if (!Files.isExecutable(Path.of(python))) {
            fail("-Dpypool.dspyPython=" + python + " is not an executable; " + how);
        }
        return python;
    }

    /** Runs the DSPy interpreter on the tests' application, as a user's script would; returns its output. */
    static String runPython(String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(python()));
        command.addAll(java.util.List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", APP.toAbsolutePath().toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            fail(command + " failed:\n" + out);
        }
        return out;
    }

    /**
     * The {@code dspy} part of each live worker's ping, by pid: one probe session per worker, all
     * open at once, so that each is pinned to a different worker (the one with fewest sessions).
     */
    static java.util.Map<Long, com.fasterxml.jackson.databind.JsonNode> pingEachWorker(PythonPool pool, int workers)
            throws Exception {
        java.util.Map<Long, com.fasterxml.jackson.databind.JsonNode> seen = new java.util.HashMap<>();
        java.util.List<PythonSession> probes = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < workers; i++) {
                PythonSession probe = pool.newSession();
                probes.add(probe);
                var ping = probe.call("ping", null);
                seen.put(ping.path("pid").asLong(), ping.path("dspy"));
            }
        } finally {
            probes.forEach(PythonSession::close);
        }
        org.assertj.core.api.Assertions.assertThat(seen).as("every worker answered a ping").hasSize(workers);
        return seen;
    }

    static PythonPoolBuilder builder(int workers) {
        return Dspy.poolBuilder().pythonExecutable(python()).workers(workers).pythonPath(APP)
                .handlerModules("pypool_test_handlers").startupTimeout(Duration.ofSeconds(60))
                .callTimeout(Duration.ofSeconds(60));
    }
}
