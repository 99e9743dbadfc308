package io.pypool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pypool.PythonCaller;
import io.pypool.PythonPool;
import io.pypool.StreamOptions;
import java.time.Duration;
import java.util.stream.Stream;
import io.pypool.PythonPoolBuilder;
import io.pypool.PythonSession;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Calls one command in a one-worker pool and prints its JSON result: for trying handlers from a shell. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Start one worker with your handler modules, call COMMAND with ARGS (JSON), print the result.")
final class RunCommand implements Callable<Integer> {

    @Option(names = {"-m", "--module"}, description = "handler module to import (repeatable); default pypool.examples. "
            + "The current folder is put on the workers' sys.path for it")
    List<String> modules;

    @Option(names = {"-p", "--path"}, description = "folder to put on the workers' sys.path (repeatable)")
    List<Path> paths;

    @Option(names = "--python", description = "Python executable (default: the real interpreter behind python3)")
    String python;

    @Parameters(index = "0", paramLabel = "COMMAND")
    String command;

    @Parameters(index = "1", arity = "0..1", paramLabel = "ARGS",
            description = "arguments as a JSON object or array; - reads them from standard input")
    String args;

    @Option(names = {"-s", "--session"}, paramLabel = "ID", description = "call through this session (its state "
            + "lives in one worker for the run)")
    String session;

    @Option(names = "--stream", description = "COMMAND is a generator: print each item as a line of JSON as it "
            + "comes (Ctrl-C stops it)")
    boolean stream;

    @Override
    public Integer call() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        JsonNode parsed;
        try {
            String text = "-".equals(args) ? new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8) : args;
            parsed = text == null ? null : mapper.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            System.err.println("pypool run: ARGS is not JSON: " + e.getOriginalMessage());
            return Failures.USAGE;
        }
        PythonPoolBuilder builder = PythonPool.builder().name("run").workers(1)
                .handlerModules(modules == null ? new String[] {"pypool.examples"} : modules.toArray(String[]::new));
        if (modules != null) {
            // Workers never import from their working directory by themselves; a module named on
            // the command line is most likely right here, so this folder is added, explicitly.
            builder.pythonPath(Path.of("").toAbsolutePath());
        }
        if (paths != null) {
            builder.pythonPath(paths.toArray(Path[]::new));
        }
        if (python != null) {
            builder.pythonExecutable(python);
        }
        try (PythonPool pool = builder.build()) {
            if (stream) {
                PythonCaller caller = session == null ? pool : pool.session(session);
                try (Stream<JsonNode> items = caller.stream(command, parsed, JsonNode.class,
                        StreamOptions.DEFAULTS.withTimeout(Duration.ofDays(1)))) {
                    items.forEach(item -> System.out.println(item.toString()));
                }
                return Failures.OK;
            }
            JsonNode result;
            if (session == null) {
                result = pool.call(command, parsed);
            } else {
                try (PythonSession s = pool.session(session)) {
                    result = s.call(command, parsed);
                }
            }
            System.out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(result));
            return Failures.OK;
        }
    }
}
