package io.pypool;

import java.io.IOException;

/** Starts workers for a pool: the other half of the {@link WorkerTransport} seam. */
interface WorkerLauncher extends AutoCloseable {

    /**
     * Starts one worker. Runs on the pool's spawner thread, which outlives every worker it starts
     * (Linux sends a worker's parent-death signal when the thread that forked it ends).
     *
     * @throws IOException if it cannot be started at all; the message says why
     */
    WorkerTransport launch(String workerId, WorkerTransport.Events events) throws IOException;

    /** After the pool's last worker has exited: release what the launcher holds. */
    @Override
    void close();
}
