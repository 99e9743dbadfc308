package io.pypool;

import java.io.File;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts workers by forking them from a {@link ForkServer}, which imports the handler modules
 * once: a worker is then ready in milliseconds instead of an interpreter start plus the imports.
 * The template is started on the first launch (on the spawner thread, which outlives it, as its
 * parent-death signal requires) and again after it died. Where forking is unsafe the pool spawns
 * instead, through the {@link ProcessLauncher} this wraps, and says why once.
 */
final class ForkServerLauncher implements WorkerLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);

    private final PoolSettings settings;
    private final ProcessLauncher spawner;
    private final Executor blocking;
    private WorkerSockets sockets;
    private ForkServer server;
    private volatile String spawnBecause;

    private ForkServerLauncher(PoolSettings settings, ProcessLauncher spawner, Executor blocking) {
        this.settings = settings;
        this.spawner = spawner;
        this.blocking = blocking;
    }

    /** The launcher the settings ask for: forking where it may be safe, else spawning. */
    static WorkerLauncher choose(PoolSettings settings, ProcessLauncher spawner, Executor blocking) {
        if (!settings.forkServer()) {
            LOG.info("pool '{}': workers are spawned, each importing the handler modules (forkServer(false))", settings.name());
            return spawner;
        }
        if (File.separatorChar != '/') {
            LOG.info("pool '{}': workers are spawned: this platform has no fork", settings.name());
            return spawner;
        }
        return new ForkServerLauncher(settings, spawner, blocking);
    }

    @Override
    public synchronized WorkerTransport launch(String workerId, WorkerTransport.Events events) throws IOException {
        if (spawnBecause == null && (server == null || !server.isAlive())) {
            startServer();
        }
        if (spawnBecause != null) {
            return spawner.launch(workerId, events);
        }
        return fork(workerId, events);
    }

    /** Starts the template and waits for its imports; on return there is a server, or a reason to spawn. */
    private void startServer() throws IOException {
        if (sockets == null) {
            try {
                sockets = WorkerSockets.open(settings.name());
            } catch (IOException | UnsupportedOperationException e) {
                spawnFromNowOn("Unix-domain sockets for the workers could not be opened (" + e.getMessage() + ")");
                return;
            }
        }
        ProcessBuilder builder = spawner.processBuilder("fork-server");
        builder.command().add("--fork-server");
        server = ForkServer.start(settings.name(), builder, spawner.reaper(), blocking, settings.maxFrameBytes());
        Object outcome;
        long started = System.nanoTime();
        try {
            outcome = server.awaitReady(settings.startupTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.kill("the pool closed while it started");
            throw new IOException("interrupted while the fork server started", e);
        }
        if (outcome instanceof ForkServer.Ready ready) {
            if (ready.unsafe().isEmpty()) {
                LOG.info("pool '{}': workers are forked from a fork server (pid {}) that imported the handler modules in {} ms",
                        settings.name(), server.pid(), (System.nanoTime() - started) / 1_000_000);
                return;
            }
            server.close();
            server = null;
            spawnFromNowOn("forking after the imports of " + settings.handlerModules() + " is unsafe: "
                    + String.join("; ", ready.unsafe()));
        }
    }

    private void spawnFromNowOn(String why) {
        spawnBecause = why;
        LOG.warn("pool '{}': workers are spawned, each importing the handler modules, not forked: {}", settings.name(), why);
    }

    private WorkerTransport fork(String workerId, WorkerTransport.Events events) throws IOException {
        long timeout = settings.startupTimeout().toMillis();
        if (!server.isAlive()) {
            // Its import failed: every worker of the slot sees that failure as if it had imported itself.
            Object outcome = awaitQuietly(server);
            server = null;
            if (outcome instanceof ForkServer.Failed failed) {
                return transport(workerId, events, ForkedProcess.replay(failed.pid(), failed.frames(),
                        failed.stderrTail(), failed.status()));
            }
            throw new IOException("its fork server ended before it was ready");
        }
        WorkerSockets.Expected expected = sockets.expect();
        ForkServer.Forked forked;
        try {
            forked = server.fork(workerId, sockets.path(), expected.token()).get(timeout, TimeUnit.MILLISECONDS);
            CompletableFuture.anyOf(expected.all(), forked.exit()).get(timeout, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            WorkerSockets.abandon(expected);
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            WorkerSockets.abandon(expected);
            throw new IOException("it was not forked and connected within the startup timeout of " + timeout + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            WorkerSockets.abandon(expected);
            throw new IOException("interrupted while it was forked", e);
        }
        if (!expected.all().isDone()) {
            // It died before it connected; what it wrote went to the fork server's stderr.
            WorkerSockets.abandon(expected);
            return transport(workerId, events, ForkedProcess.replay(forked.pid(), new byte[0], List.of(),
                    forked.exit().join()));
        }
        return transport(workerId, events, ForkedProcess.connected(forked.pid(), expected.in().join(),
                expected.out().join(), expected.err().join(), forked.exit()));
    }

    private static Object awaitQuietly(ForkServer dead) throws IOException {
        try {
            return dead.awaitReady(java.time.Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private WorkerTransport transport(String workerId, WorkerTransport.Events events, Process process) {
        return new ProcessTransport(settings.name(), workerId, process, events, spawner.reaper(), blocking,
                settings.maxFrameBytes()).outputLevel(settings.workerOutputLevel());
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.close();
        }
        if (sockets != null) {
            sockets.close();
        }
        spawner.close();
    }
}
