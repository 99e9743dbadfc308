package io.pypool;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closing a pool: stop taking calls, let accepted ones finish within the grace period, fail the
 * rest with {@link PoolClosedException}, then end every worker (end of input, then a kill of its
 * whole process group) and return once every process of the pool has exited. A second close()
 * waits for the first without holding anything the first needs.
 */
final class Shutdown {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);

    private final PoolEngine pool;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    Shutdown(PoolEngine pool) {
        this.pool = pool;
    }

    boolean started() {
        return started.get();
    }

    void close() {
        if (!started.compareAndSet(false, true)) {
            done.join();
            return;
        }
        Supervisor supervisor = pool.supervisor();
        Dispatcher dispatcher = pool.dispatcher();
        supervisor.wakeStartupWaiters();
        String name = pool.name();
        long graceMillis = pool.settings().closeGracePeriod().toMillis();
        // An interrupt, before or during close, is kept for the caller but does not cut the close
        // short: half a close would leave the spawner and the timers running, and processes alive.
        // (A Java function that closes the pool is interrupted by its own call ending, mid-close.)
        interrupted = Thread.interrupted();
        try {
            long graceEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
            while (System.nanoTime() - graceEnd < 0
                    && (dispatcher.queued() > 0 || anyPending() || pool.sessions().anyActive())) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                interrupted |= Thread.interrupted();
            }
            // Sessions first: failing a queued call frees its strand, which would send the next one.
            pool.sessions().endAll("the pool closed");
            dispatcher.failAllQueued(call -> new PoolClosedException(name, "the pool closed before call '"
                    + call.command + "' got a worker"));
            List<Worker> all = supervisor.allWorkers();
            for (Worker w : all) {
                w.end(Worker.State.STOPPED, "the pool closed");
                dispatcher.failPendingOrRetry(w, c -> new PoolClosedException(name, "the pool closed while call '"
                        + c.command + "' was still running on worker " + w.id + " (close grace period " + graceMillis
                        + " ms passed)"));
                WorkerTransport t = w.transport();
                if (t != null) {
                    t.closeInput();
                }
            }
            uninterruptibly(() -> stopProcesses(all));
            uninterruptibly(supervisor::stopSpawning);
            uninterruptibly(() -> stopProcesses(supervisor.allWorkers())); // a launch that raced with close
            supervisor.launcher().close();
            pool.timers().shutdown();
            pool.javaFunctions().shutdown();
            pool.streams().shutdown();
            // The processes are gone; their threads end with their pipes. A child that left the
            // worker's process group on purpose may still hold a pipe: it does not hold close().
            long threadsEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
            for (Worker w : supervisor.allWorkers()) {
                WorkerTransport t = w.transport();
                if (t != null) {
                    t.joinThreads(Math.max(1, TimeUnit.NANOSECONDS.toMillis(threadsEnd - System.nanoTime())));
                    interrupted |= Thread.interrupted();
                }
            }
            LOG.info("pool '{}' closed", name);
        } finally {
            pool.unregisterJmx();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            done.complete(null);
        }
    }

    /** Set by the closing thread only: it was interrupted before or during close. */
    private boolean interrupted;

    private interface Wait {
        void run() throws InterruptedException;
    }

    /** Runs a wait to its end, again after each interrupt (each remembered in {@link #interrupted}). */
    private void uninterruptibly(Wait wait) {
        while (true) {
            try {
                wait.run();
                return;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
    }

    private boolean anyPending() {
        for (Worker w : pool.allWorkers()) {
            if (w.hasPending()) {
                return true;
            }
        }
        return false;
    }

    /** End of input was sent: a healthy worker exits on it; whatever has not after 2 s is killed with its group. */
    private static void stopProcesses(List<Worker> all) throws InterruptedException {
        List<WorkerTransport> alive = new ArrayList<>();
        for (Worker w : all) {
            WorkerTransport t = w.transport();
            if (t != null && !t.exited()) {
                alive.add(t);
            }
        }
        if (!awaitExit(alive, 2_000)) {
            for (WorkerTransport t : alive) {
                if (!t.exited()) {
                    t.kill("the pool closed and it did not exit at end of input");
                }
            }
            awaitExit(alive, 10_000);
        }
    }

    private static boolean awaitExit(List<WorkerTransport> transports, long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (WorkerTransport t : transports) {
            long left = end - System.nanoTime();
            if (left <= 0 || !t.awaitExit(TimeUnit.NANOSECONDS.toMillis(left) + 1)) {
                return transports.stream().allMatch(WorkerTransport::exited);
            }
        }
        return true;
    }
}
