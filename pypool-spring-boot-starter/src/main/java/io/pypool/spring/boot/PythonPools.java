package io.pypool.spring.boot;

import io.pypool.PythonPool;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.springframework.context.SmartLifecycle;

/**
 * The pools of an application by name: {@code default} for the pool configured by the top-level
 * {@code pypool.*} properties, or each name under {@code pypool.pools}. Closing it closes them all
 * at once, each within its own grace period.
 *
 * <pre>{@code
 * PythonPool fraud = pools.get("fraud");
 * }</pre>
 */
public final class PythonPools implements AutoCloseable {

    /** The key of the pool configured by the top-level properties when no named pool is: {@value}. */
    public static final String DEFAULT_POOL = "default";

    /**
     * The {@link SmartLifecycle} phase in which the starter closes its pools as the application
     * context stops. Phases stop from the highest down, so beans of a higher phase stop first:
     * message listeners and schedulers (the default phase), then Spring Boot's graceful shutdown
     * of the web server, which lets requests in progress finish ({@code DEFAULT_PHASE - 1024}), then
     * the web server itself ({@code DEFAULT_PHASE - 2048}), and only then the pools, here.
     */
    public static final int SHUTDOWN_PHASE = SmartLifecycle.DEFAULT_PHASE - 3072;

    private final Map<String, PythonPool> pools;

    /**
     * Wraps pools by name, for an application that builds its own: with this bean in the context
     * the starter makes no pools of its own, and the health indicator reports these.
     *
     * @param pools the pools by name, in the order health and logs list them; not null
     */
    public PythonPools(Map<String, ? extends PythonPool> pools) {
        this.pools = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(pools, "pools")));
    }

    /**
     * The pool with this name.
     *
     * @param name {@code default}, or a name under {@code pypool.pools}
     * @return the pool
     * @throws NoSuchElementException if there is none of that name; the message lists the names there are
     */
    public PythonPool get(String name) {
        PythonPool pool = pools.get(name);
        if (pool == null) {
            throw new NoSuchElementException("no pypool pool named '" + name + "'; there are: " + pools.keySet());
        }
        return pool;
    }

    /**
     * The pool with this name, if there is one.
     *
     * @param name {@code default}, or a name under {@code pypool.pools}
     * @return the pool, or empty
     */
    public Optional<PythonPool> find(String name) {
        return Optional.ofNullable(pools.get(name));
    }

    /**
     * The names of the pools.
     *
     * @return the names, in configuration order
     */
    public Set<String> names() {
        return pools.keySet();
    }

    /**
     * The pools by name.
     *
     * @return an unmodifiable view, in configuration order
     */
    public Map<String, PythonPool> asMap() {
        return pools;
    }

    /**
     * Closes every pool, all at once, and returns when all have closed: each stops taking calls,
     * lets accepted calls finish within its {@code close-grace-period}, and ends its workers.
     * Calling it again does nothing.
     */
    @Override
    public void close() {
        closeAll(pools.values());
    }

    /** Closes the pools on threads of their own, waits for all, then throws the first failure, if any. */
    static void closeAll(Iterable<PythonPool> pools) {
        List<Thread> closers = new ArrayList<>();
        List<RuntimeException> failures = Collections.synchronizedList(new ArrayList<>());
        for (PythonPool pool : pools) {
            Thread closer = new Thread(() -> {
                try {
                    pool.close();
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }, "pypool-close-" + pool.name());
            closer.start();
            closers.add(closer);
        }
        boolean interrupted = false;
        for (Thread closer : closers) {
            while (closer.isAlive()) {
                try {
                    closer.join();
                } catch (InterruptedException e) {
                    interrupted = true;   // the pools close anyway: keep waiting, then say so
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    @Override
    public String toString() {
        return "PythonPools" + pools.keySet();
    }
}
