package io.pypool.bench;

import io.pypool.PythonPoolBuilder;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A way of starting workers, as builder settings. Cold start and replacement are measured once per
 * mode, so comparing a new mode is one more entry in {@link #ALL}.
 */
record StartMode(String name, UnaryOperator<PythonPoolBuilder> settings) {

    /**
     * The fork server (the default: one template imports the handler modules once and forks the
     * workers) and spawning (a fresh interpreter per worker, which imports everything itself).
     */
    static final List<StartMode> ALL = List.of(
            new StartMode("fork-server", b -> b.forkServer(true)),
            new StartMode("spawn", b -> b.forkServer(false)));
}
