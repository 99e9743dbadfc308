package io.pypool.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code pypool} command. */
@Command(name = "pypool", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Call Python from the JVM through a pool of warm worker processes.",
        footer = "%n" + Failures.EXIT_CODES,
        subcommands = {DemoCommand.class, RunCommand.class, DoctorCommand.class})
public final class Main implements Runnable {

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "show the workers' output (print() of handlers, Python logging) and, on failure, the stack trace")
    boolean verbose;

    /** The top command; picocli makes it, with its options, from {@link #commandLine()}. */
    public Main() {
        // options are set by picocli
    }

    /**
     * Runs the command line and exits the JVM with its exit code (0 success; see {@code --help} for the others).
     *
     * @param args a subcommand ({@code demo}, {@code run}, {@code doctor}) and its options, or {@code --help}
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with pypool's failure handling: one line and an exit code, never a bare stack trace. */
    static CommandLine commandLine() {
        Main main = new Main();
        CommandLine line = new CommandLine(main);
        line.setExecutionExceptionHandler(new Failures());
        line.setExecutionStrategy(parsed -> {
            if (main.verbose) {
                // Read when the first logger is made, which is after parsing: workers' stderr is logged at INFO.
                System.setProperty("org.slf4j.simpleLogger.log.io.pypool.python", "info");
            }
            return new CommandLine.RunLast().execute(parsed);
        });
        return line;
    }

    static boolean verbose(CommandLine command) {
        CommandLine root = command;
        while (root.getParent() != null) {
            root = root.getParent();
        }
        return ((Main) root.getCommand()).verbose;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** The version this jar was built as (the Maven project version). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            try (InputStream in = Main.class.getResourceAsStream("/pypool-cli.version")) {
                String version = in == null ? "unknown" : new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
                return new String[] {"pypool " + version};
            }
        }
    }
}
