package io.pypool;

import java.io.IOException;
import java.util.concurrent.Executor;

/** Starts a pool's workers on a {@link WorkerBackend}: each one a {@link LinkTransport} over the host's link. */
final class BackendLauncher implements WorkerLauncher {
    private final PoolSettings settings;
    private final WorkerHost host;
    private final Executor blocking;

    BackendLauncher(PoolSettings settings, WorkerHost host, Executor blocking) {
        this.settings = settings;
        this.host = host;
        this.blocking = blocking;
    }

    @Override
    public WorkerTransport launch(String workerId, WorkerTransport.Events events) throws IOException {
        LinkTransport transport = new LinkTransport(settings.name(), workerId, events, blocking, settings.maxFrameBytes());
        WorkerLink link = host.start(workerId, transport);
        return transport.attach(link, settings.workerOutputLevel());
    }

    @Override
    public void close() {
        host.close();
    }
}
