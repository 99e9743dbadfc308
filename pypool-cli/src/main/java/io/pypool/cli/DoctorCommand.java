package io.pypool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.PythonPool;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Checks that this machine can run a pool: the interpreter, the runtime, one worker's round trip. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Start one worker, say which interpreter it runs and how long start and a call took.")
final class DoctorCommand implements Callable<Integer> {

    @Option(names = "--python", description = "Python executable (default: the real interpreter behind python3)")
    String python;

    @Option(names = "--lm", paramLabel = "MODEL", description = "check that DSPy can build this LM "
            + "(e.g. openai/gpt-4o-mini, or py:my_pkg.lms:MyLM), without sending it a request")
    String lm;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        var builder = PythonPool.builder().name("doctor").workers(1).handlerModules("pypool.examples", "pypool.dspy");
        if (python != null) {
            builder.pythonExecutable(python);
        }
        try (PythonPool pool = builder.build()) {
            long started = System.nanoTime();
            JsonNode ping = pool.call("ping", null);
            long t1 = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                pool.call("echo", null);
            }
            long t2 = System.nanoTime();
            System.out.printf("worker %s pid %d, Python %s (%s)%n", ping.path("worker").asText(),
                    ping.path("pid").asLong(), ping.path("python").asText(), ping.path("executable").asText());
            System.out.printf("pool ready in %.0f ms; first call %.2f ms; 1000 echo calls, mean %.1f µs each%n",
                    (started - t0) / 1e6, (t1 - started) / 1e6, (t2 - t1) / 1e3 / 1000);
            JsonNode dspy = ping.path("dspy");
            System.out.println(dspy.path("available").asBoolean()
                    ? "DSPy " + dspy.path("version").asText() + " is importable (pypool-dspy can run)"
                    : "DSPy is not importable (" + dspy.path("error").asText() + "); pypool-dspy needs: "
                    + ping.path("executable").asText() + " -m pip install dspy");
            if (dspy.path("available").asBoolean()) {
                System.out.println(dspy.path("litellm").asBoolean()
                        ? "LiteLLM is importable: dspy.LM can reach providers"
                        : "LiteLLM is not importable: dspy.LM cannot send requests; DummyLM and custom dspy.BaseLM "
                        + "classes (LmConfig.custom(\"py:module:Class\")) work");
            }
            if (lm != null) {
                if (!checkLm(pool)) {
                    return 1;
                }
            }
            System.out.println("ok");
            return 0;
        }
    }

    /** Builds the LM in the worker, with every check that needs no request, and says what it found. */
    private boolean checkLm(PythonPool pool) throws InterruptedException {
        try {
            JsonNode report = pool.call("dspy.check_lm", java.util.Map.of("model", lm));
            System.out.println("LM " + lm + ": can be built (" + report + ")");
            return true;
        } catch (io.pypool.PypoolException e) {
            System.out.println("LM " + lm + ": refused: " + (e instanceof io.pypool.PythonException pe
                    ? pe.pythonType() + ": " + pe.pythonMessage() : e.getMessage()));
            return false;
        }
    }
}
