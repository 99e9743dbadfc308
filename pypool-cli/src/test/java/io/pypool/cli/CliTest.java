package io.pypool.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CliTest {

    private record Outcome(int exit, String out, String err) {}

    private static Outcome run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.commandLine().execute(args);
            return new Outcome(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void demoServesEveryCallAndReportsWorkersLatencyAndSessions() {
        Outcome o = run("demo", "--workers", "2", "--threads", "8", "--sessions", "4", "--seconds", "1");
        assertThat(o.exit()).as(o.err()).isZero();
        assertThat(o.out()).contains("workers:").containsPattern("w1 +pid \\d+").contains("calls/s")
                .contains("latency: p50").contains("sessions: 4, final state matched in 4").contains("errors: none")
                .contains("stream: [streamed, one, word, at, a, time]")
                .containsPattern("callback: 'quote' asked Java for the price of demo-sku: 3 x (\\d+) = \\d+")
                .contains("cancel: a 5 s call given up");
    }

    @Test
    void doctorNamesTheInterpreterAndWhetherDspyCanRun() {
        Outcome o = run("doctor");
        assertThat(o.exit()).as(o.err()).isZero();
        assertThat(o.out()).containsPattern("worker w1 pid \\d+, Python 3\\.").contains("pool ready in")
                .containsPattern("DSPy (.* is importable|is not importable)").endsWith("ok\n");
    }

    @Test
    void doctorChecksAnLmAndSaysWhyItIsRefused() {
        // Without DSPy or LiteLLM in this interpreter (the build's has neither) it is refused and
        // the exit code says so; where both are installed it can be built.
        Outcome o = run("doctor", "--lm", "openai/gpt-4o-mini");
        if (o.out().contains("LM openai/gpt-4o-mini: refused: ")) {
            assertThat(o.exit()).as(o.out() + o.err()).isEqualTo(1);
            assertThat(o.out()).doesNotEndWith("ok\n");
        } else {
            assertThat(o.out()).contains("LM openai/gpt-4o-mini: can be built").endsWith("ok\n");
            assertThat(o.exit()).isZero();
        }
    }

    @Test
    void runPrintsTheResultOrTheTypedError() {
        Outcome ok = run("run", "add", "[2, 40]");
        assertThat(ok.exit()).isZero();
        assertThat(ok.out().strip()).isEqualTo("42");
        Outcome unknown = run("run", "no.such.command");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).contains("unknown command 'no.such.command'");
        assertThat(run("run", "add", "{not json").exit()).isEqualTo(2);
    }

    @Test
    void runImportsAModuleFromTheCurrentFolder(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        java.nio.file.Files.writeString(folder.resolve("my_cli_handlers.py"),
                "import pypool\n\n@pypool.command('hello')\ndef hello(name):\n    return 'hello ' + name\n");
        String javaCommand = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(javaCommand, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "run", "-m", "my_cli_handlers", "hello", "{\"name\": \"cwd\"}")
                .directory(folder.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("\"hello cwd\"");
    }

    @Test
    void failuresAreOneLineInTheCliWordsWithAnExitCodeThatSaysWhatFailed() {
        Outcome noPython = run("doctor", "--python", "/nonexistent/python3");
        assertThat(noPython.exit()).as(noPython.err()).isEqualTo(3);
        assertThat(noPython.err()).startsWith("pypool doctor: ").contains("--python").doesNotContain("pythonExecutable(")
                .doesNotContain("\tat ");
        Outcome noWorkers = run("demo", "--workers", "0");
        assertThat(noWorkers.exit()).as(noWorkers.err()).isEqualTo(2);
        assertThat(noWorkers.err()).contains("pypool demo: --workers 0 is invalid: must be between 1 and 1024")
                .doesNotContain("\tat ");
        Outcome verbose = run("--verbose", "demo", "--workers", "0");
        assertThat(verbose.err()).as("--verbose adds the stack trace").contains("\tat io.pypool.");
        assertThat(run("--help").out()).contains("Exit codes: 0 done; 1 the call or check failed");
    }

    @Test
    void versionIsTheProjectsOwn() {
        Outcome o = run("--version");
        assertThat(o.exit()).isZero();
        assertThat(o.out().strip()).matches("pypool \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }

    @Test
    void runCallsThroughASessionAndReadsArgsFromStandardInput() {
        Outcome session = run("run", "--session", "cart", "counter.add", "{\"by\": 5}");
        assertThat(session.exit()).as(session.err()).isZero();
        assertThat(session.out()).contains("\"total\" : 5");
        java.io.InputStream oldIn = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("[2, 40]".getBytes(StandardCharsets.UTF_8)));
            Outcome stdin = run("run", "add", "-");
            assertThat(stdin.exit()).as(stdin.err()).isZero();
            assertThat(stdin.out().strip()).isEqualTo("42");
        } finally {
            System.setIn(oldIn);
        }
    }

    @Test
    void doctorImportsTheUsersModulesAndListsTheirCommands(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder)
            throws Exception {
        java.nio.file.Files.writeString(folder.resolve("doctor_handlers.py"),
                "import pypool\n\n@pypool.command('greet')\ndef greet(name):\n    return 'hi ' + name\n\n"
                + "@pypool.command('shop.total')\ndef total(items):\n    return sum(items)\n");
        Outcome o = run("doctor", "-m", "doctor_handlers", "-p", folder.toString());
        assertThat(o.exit()).as(o.err()).isZero();
        assertThat(o.out()).containsPattern("worker w1 pid \\d+, Python 3\\.").contains("imported doctor_handlers in")
                .contains("2 commands:\n  greet\n  shop.total\n").endsWith("ok\n");
    }

    @Test
    void doctorSaysInOneLineWhyAModuleDoesNotImport(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder)
            throws Exception {
        java.nio.file.Files.writeString(folder.resolve("broken_handlers.py"),
                "import pypool\nimport no_such_dependency_xyz\n");
        Outcome broken = run("doctor", "-m", "broken_handlers", "-p", folder.toString());
        assertThat(broken.exit()).as(broken.out() + broken.err()).isEqualTo(3);
        assertThat(broken.err().strip()).as(broken.err()).isEqualTo("pypool doctor: broken_handlers did not import: "
                + "ModuleNotFoundError: No module named 'no_such_dependency_xyz'");

        Outcome missing = run("doctor", "-m", "not_a_module_here", "-p", folder.toString());
        assertThat(missing.exit()).as(missing.err()).isEqualTo(3);
        assertThat(missing.err()).startsWith("pypool doctor: not_a_module_here did not import: ")
                .contains("not_a_module_here").doesNotContain("\tat ").doesNotContain("Traceback");
        assertThat(missing.err().strip()).doesNotContain("\n");

        Outcome noPython = run("doctor", "-m", "broken_handlers", "-p", folder.toString(), "--python", "/nonexistent/py");
        assertThat(noPython.exit()).as(noPython.err()).isEqualTo(3);
        assertThat(noPython.err()).startsWith("pypool doctor: ").contains("--python").doesNotContain("did not import");

        java.nio.file.Files.writeString(folder.resolve("empty_handlers.py"), "import pypool\n");
        Outcome empty = run("doctor", "-m", "empty_handlers", "-p", folder.toString());
        assertThat(empty.exit()).as(empty.err()).isEqualTo(1);
        assertThat(empty.out()).contains("no commands registered").doesNotEndWith("ok\n");
        assertThat(run("doctor", "--help").out()).contains("With -m, exit codes: 0");
    }
}
