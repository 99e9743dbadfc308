package io.pypool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.PoolStartupException;
import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Checks that this machine can run a pool: the interpreter, the runtime, one worker's round trip.
 * With {@code -m}, checks the user's handler modules instead: that they import in a worker, and
 * which commands they register.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Start one worker, say which interpreter it runs and how long start and a call took.",
                "With -m: import your handler modules in one worker and list the commands they register."},
        footer = {"%nWith -m, exit codes: 0 the modules import and register commands; 1 they import but register "
                + "no command; 3 one does not import (the Python error is printed, one line) or no worker started."})
final class DoctorCommand implements Callable<Integer> {

    @Option(names = {"-m", "--module"}, description = "handler module to check (repeatable). "
            + "The current folder is put on the workers' sys.path for it")
    List<String> modules;

    @Spec
    CommandSpec spec;

    @Option(names = {"-p", "--path"}, description = "folder to put on the workers' sys.path (repeatable)")
    List<Path> paths;

    @Option(names = "--python", description = "Python executable (default: the real interpreter behind python3)")
    String python;

    @Option(names = "--lm", paramLabel = "MODEL", description = "check that DSPy can build this LM "
            + "(e.g. openai/gpt-4o-mini, or py:my_pkg.lms:MyLM), without sending it a request")
    String lm;

    @Override
    public Integer call() throws Exception {
        if (modules != null) {
            return checkModules();
        }
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

    /** Imports the user's modules in one worker and lists what they register. */
    private int checkModules() throws Exception {
        List<String> imported = new ArrayList<>(modules);
        if (lm != null) {
            imported.add("pypool.dspy");
        }
        // As for run: a module named on the command line is most likely in this folder.
        PythonPoolBuilder builder = PythonPool.builder().name("doctor").workers(1)
                .handlerModules(imported.toArray(String[]::new)).pythonPath(Path.of("").toAbsolutePath());
        if (paths != null) {
            builder.pythonPath(paths.toArray(Path[]::new));
        }
        if (python != null) {
            builder.pythonExecutable(python);
        }
        long t0 = System.nanoTime();
        PythonPool started;
        try {
            started = builder.build();
        } catch (PoolStartupException e) {
            String error = pythonError(e.getMessage());
            if (error == null) {
                throw e; // no Python error: the interpreter or the runtime, told as for every command
            }
            System.err.println("pypool doctor: " + String.join(", ", modules) + " did not import: " + error);
            if (Main.verbose(spec.commandLine())) {
                e.printStackTrace();
            }
            return Failures.NO_POOL;
        }
        try (PythonPool pool = started) {
            long ready = System.nanoTime();
            JsonNode ping = pool.call("ping", null);
            System.out.printf("worker %s pid %d, Python %s (%s)%n", ping.path("worker").asText(),
                    ping.path("pid").asLong(), ping.path("python").asText(), ping.path("executable").asText());
            System.out.printf("imported %s in %.0f ms%n", String.join(", ", modules), (ready - t0) / 1e6);
            JsonNode commands = pool.call("stats", null).path("commands");
            if (commands.isEmpty()) {
                System.out.println("no commands registered: mark handlers with @pypool.command(\"name\")");
                return Failures.FAILED;
            }
            System.out.println(commands.size() + (commands.size() == 1 ? " command:" : " commands:"));
            for (JsonNode command : commands) {
                System.out.println("  " + command.asText());
            }
            if (lm != null && !checkLm(pool)) {
                return Failures.FAILED;
            }
            System.out.println("ok");
            return Failures.OK;
        }
    }

    /** The Python error line ("ModuleNotFoundError: No module named 'x'") in a startup failure, or null. */
    static String pythonError(String message) {
        if (message == null) {
            return null;
        }
        String found = null;
        for (String line : message.split("\\R")) {
            String t = line.strip();
            if (t.matches("([A-Za-z_][\\w.]*\\.)?[A-Z]\\w*(Error|Exception|Exit|Interrupt)\\b.*")) {
                found = t; // the last one: a traceback ends with the error that ended it
            }
        }
        return found;
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
