package io.pypool.testkit;

import io.pypool.PoolStats;
import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each test, or each test class, its own pool, ready before the test body runs, and closes
 * it afterwards. The test fails if any Python process of the pool outlives the close (found by
 * the pool's run id on worker command lines, so replaced workers count too).
 *
 * <pre>{@code
 * class MyTest {
 *     @RegisterExtension
 *     final PypoolExtension pools = PypoolExtension.perTest(() -> PythonPool.builder().handlerModules("my_handlers"));
 *
 *     @Test
 *     void adds(PythonPool pool) throws Exception {            // or pools.pool()
 *         assertEquals(3, pool.call("add", List.of(1, 2), Integer.class));
 *     }
 *
 *     @Test
 *     void tinyQueue() throws Exception {
 *         PythonPool small = pools.start(PythonPool.builder().maxQueuedCalls(1)); // closed and checked after the test
 *     }
 * }
 * }</pre>
 *
 * Register it on an instance field for a pool per test, on a static field with {@link #perClass}
 * for one pool per class. Safe under JUnit's parallel execution: nothing is shared between
 * extension instances, and each pool is its own.
 */
public final class PypoolExtension implements BeforeEachCallback, AfterEachCallback, BeforeAllCallback,
        AfterAllCallback, ParameterResolver {

    private enum Scope { TEST, CLASS, NONE }

    private final Supplier<PythonPoolBuilder> defaultPool;
    private final Scope scope;
    private volatile PythonPool pool;
    private final List<PythonPool> started = new CopyOnWriteArrayList<>();

    private PypoolExtension(Supplier<PythonPoolBuilder> defaultPool, Scope scope) {
        this.defaultPool = defaultPool;
        this.scope = scope;
    }

    /**
     * A fresh pool from {@code builder} for every test.
     *
     * @param builder makes the builder of each test's pool; called once per test, before it
     * @return the extension, to register on an instance field
     */
    public static PypoolExtension perTest(Supplier<PythonPoolBuilder> builder) {
        return new PypoolExtension(Objects.requireNonNull(builder, "builder"), Scope.TEST);
    }

    /**
     * One pool from {@code builder} for all tests of the class; register it on a static field.
     *
     * @param builder makes the builder of the class's pool; called once, before the first test
     * @return the extension, to register on a static field
     */
    public static PypoolExtension perClass(Supplier<PythonPoolBuilder> builder) {
        return new PypoolExtension(Objects.requireNonNull(builder, "builder"), Scope.CLASS);
    }

    /**
     * No default pool: only pools started with {@link #start} are closed and checked, after each test.
     *
     * @return the extension, to register on an instance field
     */
    public static PypoolExtension create() {
        return new PypoolExtension(null, Scope.NONE);
    }

    /**
     * The default pool of the current test (or class).
     *
     * @return the pool, started and ready
     * @throws IllegalStateException if this extension has no default pool ({@link #create()}), or
     *         outside a test or lifecycle method
     */
    public PythonPool pool() {
        PythonPool p = pool;
        if (p == null) {
            throw new IllegalStateException(scope == Scope.NONE
                    ? "this PypoolExtension has no default pool; use perTest(...) or perClass(...), or start(...)"
                    : "the pool is not started: use it from a test or lifecycle method, not a constructor");
        }
        return p;
    }

    /**
     * Builds and starts another pool that is closed and checked with the test (or class).
     *
     * @param builder the pool's configuration
     * @return the started pool
     * @throws io.pypool.PoolStartupException if the pool cannot start
     */
    public PythonPool start(PythonPoolBuilder builder) {
        PythonPool p = builder.build();
        started.add(p);
        return p;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (scope == Scope.CLASS) {
            pool = start(defaultPool.get());
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (scope == Scope.TEST) {
            pool = start(defaultPool.get());
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (scope != Scope.CLASS) {
            closeAndCheck();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        closeAndCheck();
    }

    private void closeAndCheck() {
        List<PythonPool> pools = new ArrayList<>(started);
        started.clear();
        pool = null;
        List<String> leaks = new ArrayList<>();
        for (PythonPool p : pools) {
            PoolStats stats = p.stats();
            p.close();
            for (ProcessHandle leaked : workersOf(stats.runId())) {
                leaks.add("pid " + leaked.pid() + " of pool '" + stats.name() + "': "
                        + leaked.info().commandLine().orElse("?"));
                leaked.destroyForcibly();
            }
        }
        if (!leaks.isEmpty()) {
            throw new AssertionError("Python processes outlived their pool's close():\n  " + String.join("\n  ", leaks));
        }
    }

    /** Live processes whose command line carries this run id: the pool's workers, whatever their generation. */
    static List<ProcessHandle> workersOf(String runId) {
        return ProcessHandle.allProcesses()
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().arguments().map(args -> carriesRunId(args, runId)).orElse(false))
                .toList();
    }

    private static boolean carriesRunId(String[] args, String runId) {
        int i = Arrays.asList(args).indexOf("--run-id");
        return i >= 0 && i + 1 < args.length && args[i + 1].equals(runId);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return scope != Scope.NONE && parameter.getParameter().getType() == PythonPool.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        PythonPool p = pool;
        if (p == null) {
            throw new ParameterResolutionException("no pool is running for " + context.getDisplayName());
        }
        return p;
    }
}
