package io.pypool.cli;

import io.pypool.PoolStartupException;
import io.pypool.PypoolException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * What a command that failed prints: one line naming what happened, in the CLI's own words (its
 * flags, not the Java API's builder methods), and an exit code that says what kind of failure it
 * was. The stack trace only with {@code --verbose}.
 */
final class Failures implements IExecutionExceptionHandler {
    static final int OK = 0;
    /** The call or check ran and failed: Python raised, a worker crashed, an LM was refused. */
    static final int FAILED = 1;
    /** Bad command line or input: an option value out of range, ARGS that are not JSON. */
    static final int USAGE = 2;
    /** No pool could start: no such interpreter, a handler module that does not import. */
    static final int NO_POOL = 3;
    static final int INTERRUPTED = 130;

    static final String EXIT_CODES = "Exit codes: 0 done; 1 the call or check failed; 2 bad command line or "
            + "input; 3 no pool could start (interpreter, handler modules); 130 interrupted.";

    /** Builder settings that the CLI sets from a flag, by the flag's name. */
    private static final Map<String, String> FLAGS = Map.of(
            "workers", "--workers", "pythonExecutable", "--python", "handlerModules", "--module",
            "pythonPath", "--path");
    private static final Pattern INVALID = Pattern.compile("(\\w+) = '([^']*)' is invalid");
    private static final Pattern CALL = Pattern.compile("(\\w+)\\(\\.\\.\\.\\)");

    @Override
    public int handleExecutionException(Exception e, CommandLine command, ParseResult parsed) {
        String name = command.getCommandName();
        command.getErr().println("pypool " + name + ": " + inCliWords(message(e)));
        if (Main.verbose(command)) {
            e.printStackTrace(command.getErr());
        } else if (!(e instanceof PypoolException) && !(e instanceof IllegalArgumentException)) {
            command.getErr().println("(an unexpected " + e.getClass().getName() + "; --verbose shows where)");
        }
        return exitCode(e);
    }

    static int exitCode(Exception e) {
        if (e instanceof PoolStartupException) {
            return NO_POOL;
        }
        if (e instanceof IllegalArgumentException) {
            return USAGE;
        }
        if (e instanceof InterruptedException) {
            return INTERRUPTED;
        }
        return FAILED;
    }

    private static String message(Exception e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /** "workers = '0' is invalid" becomes "--workers 0 is invalid"; "pythonExecutable(...)" becomes "--python". */
    static String inCliWords(String message) {
        Matcher invalid = INVALID.matcher(message);
        StringBuilder out = new StringBuilder();
        while (invalid.find()) {
            String flag = FLAGS.get(invalid.group(1));
            invalid.appendReplacement(out, Matcher.quoteReplacement(flag == null ? invalid.group()
                    : flag + " " + invalid.group(2) + " is invalid"));
        }
        invalid.appendTail(out);
        Matcher call = CALL.matcher(out.toString());
        StringBuilder done = new StringBuilder();
        while (call.find()) {
            String flag = FLAGS.get(call.group(1));
            call.appendReplacement(done, Matcher.quoteReplacement(flag == null ? call.group() : flag));
        }
        call.appendTail(done);
        return done.toString();
    }
}
