package io.pypool;

import java.io.IOException;

/**
 * Where a pool's workers run when they are not local processes: pypool-ray's backend puts each
 * one in a Ray actor, for example. A backend only moves bytes. Routing, sessions, deadlines,
 * the queue, health, restarts and every typed error stay the pool's own, so a pool on a backend
 * behaves like a local one wherever the backend can carry the worker's protocol.
 *
 * <p>Set one with {@link PythonPoolBuilder#backend(WorkerBackend)}. The pool opens it once as it
 * starts and closes what it opened when it closes.
 */
public interface WorkerBackend {

    /**
     * Opens this backend for one pool.
     *
     * @param spec what every worker of the pool runs
     * @return the host that starts the pool's workers; closed with the pool
     * @throws IOException when the backend cannot serve at all; the message says why, and the
     *         pool's start fails with it
     */
    WorkerHost open(WorkerSpec spec) throws IOException;

    /**

     * Returns one line for logs: what this backend is and where ("Ray at 10.0.0.5:6379").

     *

     * @return one line for logs: what this backend is and where ("Ray at 10.0.0.5:6379")

     */
    String describe();
}
