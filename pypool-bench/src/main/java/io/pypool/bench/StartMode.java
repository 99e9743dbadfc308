package io.pypool.bench;

import io.pypool.PythonPoolBuilder;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A way of starting workers, as builder settings. Cold start and replacement are measured once per
 * mode, so comparing a new mode with spawning is one more entry in {@link #ALL}: for a fork-server
 * option, spawn becomes {@code b -> b.forkServer(false)} and the new line is
 * {@code new StartMode("fork-server", b -> b.forkServer(true))}.
 */
record StartMode(String name, UnaryOperator<PythonPoolBuilder> settings) {

    /** Spawn is what this build does: a fresh interpreter per worker, which imports everything itself. */
    static final List<StartMode> ALL = List.of(
            new StartMode("spawn", UnaryOperator.identity()));
}
