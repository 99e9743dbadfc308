package io.pypool;

import java.lang.management.ManagementFactory;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's MXBean: registered when the pool has started, unregistered when it closes. JMX is
 * for watching: a registration that fails (another pool of the same name in this JVM) is logged
 * and the pool serves without it.
 */
final class PoolJmx implements PythonPoolMXBean {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);

    private final PythonPool pool;
    private final String name;

    private PoolJmx(PythonPool pool, String name) {
        this.pool = pool;
        this.name = name;
    }

    /** The name a pool's bean is registered under. */
    static ObjectName objectName(String poolName) throws JMException {
        String value = poolName;
        try {
            new ObjectName("io.pypool", "name", value);
        } catch (JMException e) {
            value = ObjectName.quote(poolName);
        }
        return new ObjectName("io.pypool:type=PythonPool,name=" + value);
    }

    /** Registers the pool's bean; returns its name, or null when it could not be registered. */
    static ObjectName register(PythonPool pool, String poolName) {
        try {
            ObjectName on = objectName(poolName);
            ManagementFactory.getPlatformMBeanServer().registerMBean(new PoolJmx(pool, poolName), on);
            return on;
        } catch (JMException | RuntimeException e) {
            LOG.warn("pool '{}' serves without JMX: its MXBean could not be registered ({}); is another pool of "
                    + "the same name running in this JVM?", poolName, e.toString());
            return null;
        }
    }

    /** Unregisters a bean {@link #register} registered; null is nothing to do. */
    static void unregister(ObjectName on, String poolName) {
        if (on == null) {
            return;
        }
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            server.unregisterMBean(on);
        } catch (JMException | RuntimeException e) {
            LOG.warn("pool '{}': its MXBean could not be unregistered ({})", poolName, e.toString());
        }
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public String getRunId() {
        return pool.stats().runId();
    }

    @Override
    public int getWorkers() {
        return pool.stats().workers().size();
    }

    @Override
    public int getReadyWorkers() {
        return (int) pool.stats().workers().stream().filter(w -> w.state().equals("READY")).count();
    }

    @Override
    public int getBusyWorkers() {
        return pool.stats().busyWorkers();
    }

    @Override
    public int getCallsInFlight() {
        return pool.stats().workers().stream().mapToInt(PoolStats.Worker::inFlight).sum();
    }

    @Override
    public int getQueuedCalls() {
        return pool.stats().queuedCalls();
    }

    @Override
    public int getSessions() {
        return pool.stats().sessions();
    }

    @Override
    public long getRestarts() {
        return pool.stats().restarts();
    }

    @Override
    public String getHealthStatus() {
        return pool.health().status().name();
    }

    @Override
    public String[] getHealthProblems() {
        return pool.health().problems().toArray(String[]::new);
    }

    @Override
    public String[] getRecentIncidents() {
        return pool.health().recentIncidents().toArray(String[]::new);
    }

    @Override
    public String[] getWorkerDetails() {
        return pool.stats().workers().stream()
                .map(w -> w.id() + " pid=" + w.pid() + " state=" + w.state() + " inFlight=" + w.inFlight()
                        + " sessions=" + w.sessions() + " callsServed=" + w.callsServed() + " rssBytes=" + w.rssBytes())
                .toArray(String[]::new);
    }
}
