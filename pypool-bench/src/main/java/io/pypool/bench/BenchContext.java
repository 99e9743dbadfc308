package io.pypool.bench;

import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What every section shares: the interpreter (one for the floor and the pools, so the comparison
 * is fair), the folder the Python scripts are copied to, and the run's sizes.
 */
record BenchContext(String python, Path scripts, BenchOptions.Sizes sizes) {

    static BenchContext create(String python, BenchOptions.Sizes sizes) throws IOException {
        Path dir = Files.createTempDirectory("pypool-bench");
        dir.toFile().deleteOnExit();
        for (String script : new String[] {"floor_echo.py", "slow_handlers.py", "conversation_handlers.py"}) {
            Path target = dir.resolve(script);
            try (InputStream in = BenchContext.class.getResourceAsStream("/bench/" + script)) {
                Files.copy(in, target);
            }
            target.toFile().deleteOnExit();
        }
        return new BenchContext(python, dir, sizes);
    }

    /**
     * A pool as a user gets it without tuning anything: only the worker count (what is being
     * measured), the interpreter (the floor's) and the bundled example handlers are set.
     */
    PythonPoolBuilder defaultPool(String name, int workers) {
        return PythonPool.builder().name(name).workers(workers).pythonExecutable(python)
                .handlerModules("pypool.examples");
    }

    Floor floor() throws IOException {
        return new Floor(python, scripts.resolve("floor_echo.py"));
    }
}
