package io.pypool;

import java.io.IOException;

/** A {@link WorkerBackend} opened for one pool: starts its workers, and is closed with it. */
public interface WorkerHost extends AutoCloseable {

    /**
     * Starts one worker running pypool's Python runtime with {@link WorkerSpec#workerArguments}.
     * May block while the worker is placed; the pool calls it from a thread of its own.
     *
     * @param workerId the pool's name for the worker ("w3")
     * @param listener where the worker's output and end go, once {@link WorkerLink#start()} is called
     * @return the worker's link
     * @throws IOException when it cannot be started; the message says why
     */
    WorkerLink start(String workerId, WorkerLink.Listener listener) throws IOException;

    /** After the pool's last worker has ended: release what the host holds. Never throws. */
    @Override
    void close();
}
