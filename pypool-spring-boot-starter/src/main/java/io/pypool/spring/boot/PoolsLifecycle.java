package io.pypool.spring.boot;

import org.springframework.context.SmartLifecycle;

/** Closes the starter's pools as the context stops, in {@link PythonPools#SHUTDOWN_PHASE}: after the web server. */
final class PoolsLifecycle implements SmartLifecycle {
    private final PythonPools pools;
    private volatile boolean running;

    PoolsLifecycle(PythonPools pools) {
        this.pools = pools;
    }

    @Override
    public void start() {
        // The pools started when their bean was made, before any bean could call them.
        running = true;
    }

    @Override
    public void stop() {
        try {
            pools.close();
        } finally {
            running = false;
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PythonPools.SHUTDOWN_PHASE;
    }
}
