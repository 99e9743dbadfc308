package io.pypool;

/**
 * A pool's stats and health as JMX attributes, for JConsole, VisualVM or a JMX exporter. Pools
 * register one only when built with {@link PythonPoolBuilder#jmx(boolean) jmx(true)}, under
 * {@code io.pypool:type=PythonPool,name=<pool name>}, and unregister it when they close. Every
 * attribute is read from {@link PythonPool#stats()} or {@link PythonPool#health()} when asked.
 */
public interface PythonPoolMXBean {

    /**
     * The pool's name.
     *
     * @return the name given to the builder, or the generated one
     */
    String getName();

    /**
     * The id on every worker's command line ({@code --run-id}).
     *
     * @return the pool's run id, unique per pool
     */
    String getRunId();

    /**
     * Live worker processes, starting or serving.
     *
     * @return the number of workers the pool holds now
     */
    int getWorkers();

    /**
     * Workers that can take calls.
     *
     * @return the number of workers in state READY
     */
    int getReadyWorkers();

    /**
     * Workers with at least one call running.
     *
     * @return the number of busy workers
     */
    int getBusyWorkers();

    /**
     * Calls sent to workers and not yet answered.
     *
     * @return the sum of every worker's calls in flight
     */
    int getCallsInFlight();

    /**
     * Calls waiting for a worker.
     *
     * @return the length of the pool's queue
     */
    int getQueuedCalls();

    /**
     * Sessions the pool knows of.
     *
     * @return the number of open sessions
     */
    int getSessions();

    /**
     * Worker processes started to replace lost or recycled ones, since the pool started.
     *
     * @return the restart count
     */
    long getRestarts();

    /**
     * How well the pool serves, in one word.
     *
     * @return HEALTHY, DEGRADED or UNHEALTHY
     */
    String getHealthStatus();

    /**
     * What is wrong now, one line per problem.
     *
     * @return the health problems; empty when healthy
     */
    String[] getHealthProblems();

    /**
     * The pool's last incidents, newest last, each with its time.
     *
     * @return crashed, hung, stopped, recycled or given-up workers, as the health report tells them
     */
    String[] getRecentIncidents();

    /**
     * One line per worker: id, pid, state, calls in flight, pinned sessions, calls served and
     * resident memory.
     *
     * @return the workers as the pool sees them now
     */
    String[] getWorkerDetails();
}
