package io.pypool.bench;

import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * What the workers import before they are ready, for the start and replacement figures: nothing
 * heavy (interpreter start alone), a module burning 1 s of CPU at import, or real DSPy when an
 * interpreter that has it is given. Each knows a command that returns the serving worker's pid.
 */
record Handlers(String name, UnaryOperator<PythonPoolBuilder> settings, String pidCommand, boolean needsDspy) {

    static final String IMPORT_SECONDS = "1";

    static Handlers none() {
        return new Handlers("no import", b -> b.handlerModules("pypool.examples"), "ping", false);
    }

    static Handlers cpuImport(BenchContext context) {
        return new Handlers(IMPORT_SECONDS + " s CPU import",
                b -> b.handlerModules("slow_handlers").pythonPath(context.scripts())
                        .environment("BENCH_IMPORT_SECONDS", IMPORT_SECONDS),
                "bench.pid", false);
    }

    /** Real DSPy, through its handler module, on the interpreter that has it installed. */
    static Handlers dspy(String dspyPython) {
        return new Handlers("real DSPy", b -> b.handlerModules("pypool.dspy").pythonExecutable(dspyPython), "ping", true);
    }

    static List<Handlers> forStart(BenchContext context, String dspyPython) {
        List<Handlers> all = new ArrayList<>(List.of(none(), cpuImport(context)));
        if (dspyPython != null) {
            all.add(dspy(dspyPython));
        }
        return all;
    }

    /** The pid of the worker that serves the next call. */
    long servingPid(PythonPool pool) throws InterruptedException {
        if (pidCommand.equals("ping")) {
            return pool.call("ping", null).get("pid").asLong();
        }
        return pool.call(pidCommand, null, Long.class);
    }

    /**
     * Fails unless the pool answers with these handlers loaded: a start figure for a pool that
     * cannot serve (DSPy missing from the interpreter, say) would be a figure for the wrong thing.
     */
    void checkServes(PythonPool pool) throws InterruptedException {
        servingPid(pool);
        if (needsDspy && !pool.call("dspy.status", null).path("available").asBoolean()) {
            throw new IllegalStateException("DSPy is not importable in the --dspy-python interpreter: "
                    + pool.call("dspy.status", null));
        }
    }
}
