package io.pypool;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What every worker of a pool runs, for a {@link WorkerBackend}: pypool's Python runtime (a local
 * folder the backend ships to where workers run), the handler modules, the Python path and
 * environment the builder was given, and the runtime's command line.
 */
public final class WorkerSpec {
    private final PoolSettings settings;
    private final Path runtimeDirectory;

    WorkerSpec(PoolSettings settings, Path runtimeDirectory) {
        this.settings = settings;
        this.runtimeDirectory = runtimeDirectory;
    }

    /**

     * Returns the pool's name.

     *

     * @return the pool's name

     */
    public String poolName() {
        return settings.name();
    }

    /**

     * Returns the pool's run id, unique per pool start; a backend may tag what it creates with it.

     *

     * @return the pool's run id, unique per pool start; a backend may tag what it creates with it

     */
    public String runId() {
        return settings.runId();
    }

    /**

     * Returns the folder holding pypool's Python runtime ({@code pypool_worker.py}, {@code pypool/}).

     *

     * @return the folder holding pypool's Python runtime ({@code pypool_worker.py}, {@code pypool/})

     */
    public Path runtimeDirectory() {
        return runtimeDirectory;
    }

    /**

     * Returns the handler modules each worker imports.

     *

     * @return the handler modules each worker imports

     */
    public List<String> handlerModules() {
        return settings.handlerModules();
    }

    /**

     * Returns the local folders the builder added to the Python path, in order.

     *

     * @return the local folders the builder added to the Python path, in order

     */
    public List<Path> pythonPath() {
        return settings.pythonPath();
    }

    /**

     * Returns the environment variables the builder set for workers.

     *

     * @return the environment variables the builder set for workers

     */
    public Map<String, String> environment() {
        return settings.environment();
    }

    /**

     * Returns how long a worker may take to start and say hello.

     *

     * @return how long a worker may take to start and say hello

     */
    public Duration startupTimeout() {
        return settings.startupTimeout();
    }

    /**
     * The arguments of {@code python pypool_worker.py} for one worker, all but
     * {@code --parent-pid PID}, which the process that starts the runtime adds for itself: the
     * runtime exits when that process dies.
     *
     * @param workerId the pool's name for the worker
     * @return the arguments, in order
     */
    public List<String> workerArguments(String workerId) {
        return ProcessLauncher.workerArguments(settings, workerId);
    }
}
