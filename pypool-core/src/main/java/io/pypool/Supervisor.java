package io.pypool;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the pool's worker slots filled: starts workers (at most {@code maxConcurrentStarts} at
 * once, from one long-lived spawner thread), runs their setup steps, and handles their end.
 * A worker that fails to start is replaced with backoff and, after
 * {@code maxConsecutiveStartFailures}, its slot is given up and tried again after
 * {@code slotRetryAfter}. A worker that dies while serving is replaced with backoff too, but never
 * makes the pool give a slot up, so no input can shrink the pool. Retiring (a call overran its
 * deadline) and recycling take a worker out of service while its replacement starts.
 */
final class Supervisor {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);
    private static final long MAX_BACKOFF_MILLIS = 10_000;
    /** Crashes of one slot closer together than this count as a streak, and back off. */
    private static final long CRASH_STREAK_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final PoolEngine pool;
    private final PoolSettings settings;
    private final WorkerLauncher launcher;
    private final ExecutorService spawner;
    private final AtomicInteger workerIds = new AtomicInteger();
    private final AtomicInteger restarts = new AtomicInteger();
    private final AtomicInteger[] startFailures;
    private final int[] crashStreak;
    private final long[] lastCrashNanos;
    /** Per slot: why it was given up, or null. */
    private final String[] givenUp;
    /** Guards the worker set, the start queue and the startup wait; never taken on the call path. */
    private final Object lifecycle = new Object();
    private volatile Worker[] workers = new Worker[0];
    private final List<Worker> retiring = new CopyOnWriteArrayList<>();
    /** Every worker whose process has started and not yet been seen to end: what close() must end. */
    private final Set<Worker> launched = ConcurrentHashMap.newKeySet();
    private final ArrayDeque<Worker> waitingToStart = new ArrayDeque<>();
    private int startsInFlight;
    private volatile String buildFailure;
    private volatile boolean building = true;

    Supervisor(PoolEngine pool, WorkerLauncher launcher) {
        this.pool = pool;
        this.settings = pool.settings();
        this.launcher = launcher;
        int n = settings.workers();
        this.startFailures = new AtomicInteger[n];
        Arrays.setAll(startFailures, i -> new AtomicInteger());
        this.crashStreak = new int[n];
        this.lastCrashNanos = new long[n];
        this.givenUp = new String[n];
        this.spawner = java.util.concurrent.Executors.newSingleThreadExecutor(
                r -> Worker.daemon("pypool-" + settings.name() + "-spawner", r));
    }

    Worker[] workers() {
        return workers;
    }

    /** The current workers, the retiring ones, and any other whose process has not been seen to end. */
    List<Worker> allWorkers() {
        Set<Worker> all = new LinkedHashSet<>(Arrays.asList(workers));
        all.addAll(retiring);
        all.addAll(launched);
        return new ArrayList<>(all);
    }

    List<Worker> retiring() {
        return retiring;
    }

    String givenUp(int slot) {
        return givenUp[slot];
    }

    long restarts() {
        return restarts.get();
    }

    boolean building() {
        return building;
    }

    // ---- starting -----------------------------------------------------------------------------

    void startAll() {
        Worker[] initial = new Worker[settings.workers()];
        for (int slot = 0; slot < initial.length; slot++) {
            initial[slot] = newWorker(slot);
        }
        synchronized (lifecycle) {
            workers = initial;
        }
        for (Worker w : initial) {
            requestStart(w);
        }
    }

    private Worker newWorker(int slot) {
        return new Worker("w" + workerIds.incrementAndGet(), slot, settings.maxInFlightPerWorker(),
                settings.handlerThreads(), pool.clock(), pool.commandTimes());
    }

    private void requestStart(Worker w) {
        synchronized (lifecycle) {
            waitingToStart.add(w);
        }
        startWaiting();
    }

    /** Starts waiting workers while fewer than maxConcurrentStarts are starting. */
    private void startWaiting() {
        List<Worker> go = new ArrayList<>();
        synchronized (lifecycle) {
            while (startsInFlight < settings.maxConcurrentStarts() && !waitingToStart.isEmpty()) {
                Worker w = waitingToStart.poll();
                if (w.state() == Worker.State.STARTING && !pool.isClosed()) {
                    startsInFlight++;
                    go.add(w);
                }
            }
        }
        for (Worker w : go) {
            try {
                spawner.execute(() -> launch(w));
            } catch (RejectedExecutionException e) {
                w.end(Worker.State.STOPPED, "the pool closed before it started");
                startSettled(w);
            }
        }
    }

    private void startSettled(Worker w) {
        if (w.settleStart()) {
            synchronized (lifecycle) {
                startsInFlight--;
            }
            startWaiting();
        }
    }

    private void launch(Worker w) {
        if (pool.isClosed()) {
            w.end(Worker.State.STOPPED, "the pool closed before it started");
            startSettled(w);
            return;
        }
        WorkerTransport t;
        try {
            t = launcher.launch(w.id, new WorkerEvents(w));
        } catch (IOException | RuntimeException e) {
            gone(w, e.getMessage(), null, null, List.of());
            return;
        }
        w.launched(t, System.nanoTime());
        launched.add(w);
        t.start();
        pool.timers().after(settings.startupTimeout().toNanos(), () -> {
            if (w.state() == Worker.State.STARTING) {
                t.kill("it did not become ready within the startup timeout of " + settings.startupTimeout().toMillis() + " ms");
            }
        });
    }

    /** What one worker's transport reports, bound to that worker. */
    private final class WorkerEvents implements WorkerTransport.Events {
        private final Worker w;
        private volatile String startupFailure;

        WorkerEvents(Worker w) {
            this.w = w;
        }

        @Override
        public void onFrame(FrameCodec.Frame frame) {
            switch (frame.kind()) {
                case FrameCodec.REPLY_OK, FrameCodec.REPLY_ERROR -> pool.dispatcher().onReply(w, frame);
                case FrameCodec.STREAM_ITEM -> pool.dispatcher().onStreamItem(w, frame);
                case FrameCodec.CALL_JAVA -> pool.javaFunctions().onCall(w, frame);
                case FrameCodec.HELLO -> onHello(w, frame);
                case FrameCodec.STARTUP_FAILED -> startupFailure = startupFailureText(frame);
                default -> throw new WorkerTransport.Violation("sent an unexpected frame kind " + frame.kind());
            }
        }

        @Override
        public void onDeath(WorkerTransport.Death death) {
            gone(w, null, death, startupFailure, death.stderrTail());
        }
    }

    private String startupFailureText(FrameCodec.Frame frame) {
        String text = FrameCodec.utf8(frame.body());
        try {
            JsonNode error = pool.mapper().readTree(frame.body());
            text = error.path("message").asText() + "\n" + error.path("traceback").asText();
        } catch (IOException ignored) {
            // keep the raw text: it is still the best description there is
        }
        return text.strip();
    }

    private void onHello(Worker w, FrameCodec.Frame frame) {
        JsonNode hello;
        try {
            hello = pool.mapper().readTree(frame.body());
        } catch (IOException e) {
            throw new WorkerTransport.Violation("sent an unreadable hello: " + FrameCodec.utf8(frame.body()));
        }
        w.heardFrom(pool.clock().nanoTime());
        java.util.Set<String> asyncCommands = new java.util.HashSet<>();
        hello.path("async_commands").forEach(c -> asyncCommands.add(c.asText()));
        w.asyncCommands(asyncCommands);
        pool.setup().run(w, () -> onReady(w, hello), why -> w.transport().kill("it failed its setup step " + why));
    }

    private void onReady(Worker w, JsonNode hello) {
        if (!w.transition(Worker.State.STARTING, Worker.State.READY)) {
            return;
        }
        startFailures[w.slot].set(0);
        givenUp[w.slot] = null;
        startSettled(w);
        long startNanos = System.nanoTime() - w.launchedNanos();
        LOG.info("pool '{}': worker {} ready in {} ms (pid {}, Python {})", pool.name(), w.id,
                startNanos / 1_000_000, w.pid(), hello.path("python").asText());
        pool.listeners().workerReady(w.id, startNanos);
        synchronized (lifecycle) {
            lifecycle.notifyAll();
        }
        pool.dispatcher().pump(w);
    }

    void awaitStartup() {
        long deadline = System.nanoTime() + settings.startupTimeout().toNanos();
        synchronized (lifecycle) {
            try {
                while (true) {
                    if (buildFailure != null) {
                        throw new PoolStartupException(pool.name(), buildFailure, null);
                    }
                    long ready = Arrays.stream(workers).filter(Worker::isReady).count();
                    if (ready >= settings.minReadyWorkers()) {
                        building = false;
                        return;
                    }
                    List<String> abandoned = Arrays.stream(givenUp).filter(Objects::nonNull).toList();
                    if (abandoned.size() > settings.workers() - settings.minReadyWorkers()) {
                        throw new PoolStartupException(pool.name(), "too few workers can start to reach minReadyWorkers ("
                                + settings.minReadyWorkers() + "): " + String.join("; ", abandoned), null);
                    }
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        throw new PoolStartupException(pool.name(), ready + " of " + settings.minReadyWorkers()
                                + " required workers were ready within the startup timeout of "
                                + settings.startupTimeout().toMillis() + " ms: " + describeStarting(), null);
                    }
                    TimeUnit.NANOSECONDS.timedWait(lifecycle, remaining);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PoolStartupException(pool.name(), "interrupted while waiting for workers to start", e);
            }
        }
    }

    private String describeStarting() {
        StringBuilder sb = new StringBuilder();
        for (Worker w : workers) {
            if (!w.isReady()) {
                WorkerTransport t = w.transport();
                sb.append("\n  ").append(w).append(", stderr: ").append(t == null ? List.of() : t.stderrTail());
            }
        }
        return sb.toString();
    }

    void wakeStartupWaiters() {
        synchronized (lifecycle) {
            building = false;
            lifecycle.notifyAll();
        }
    }

    // ---- the end of a worker ---------------------------------------------------------------------

    /**
     * A worker is gone: its process ended (death), or it never started (launchError). Every call
     * it still had fails now, with one verdict; its sessions' waiting calls move or fail; and
     * unless the pool ended it on purpose, its slot gets a new worker.
     */
    private void gone(Worker w, String launchError, WorkerTransport.Death death, String startupFailure, List<String> tail) {
        Worker.State before = w.state();
        boolean wasStarting = before == Worker.State.STARTING;
        boolean retired = before == Worker.State.DRAINING;
        String what = launchError != null ? launchError : death.describe();
        String retiredBecause = w.endReason();
        boolean unexpected = w.end(Worker.State.FAILED, what) && !retired;
        launched.remove(w);
        retiring.remove(w);
        startSettled(w);
        Integer exit = death == null ? null : death.exitCode();
        String why = retired ? "was ended after it was retired (" + retiredBecause + ")" : what;
        Function<Call, PypoolException> verdict = call -> death != null && death.protocolError() != null
                ? new ProtocolException(pool.name(), "call '" + call.command + "' failed: worker " + w.id + " (pid "
                        + w.pid() + ") " + what + "; the worker was ended and is being replaced", null)
                : new WorkerCrashedException(pool.name(), w.id, "call '" + call.command + "' failed: worker " + w.id
                        + " (pid " + w.pid() + ") " + why + " while running it" + stderrSuffix(tail), exit, tail);
        if (unexpected && !pool.isClosed()) {
            if (wasStarting) {
                pool.listeners().workerStartFailed(w.id, what);
            } else {
                pool.listeners().workerCrashed(w.id, what);
            }
            // The slot is refilled first, so that what is moved off this worker below finds a successor.
            refill(w, wasStarting, what, startupFailure, tail);
        }
        pool.dispatcher().failPendingOrRetry(w, verdict);
        pool.dispatcher().drainWorkerQueue(w, why);
    }

    private void refill(Worker w, boolean wasStarting, String what, String startupFailure, List<String> tail) {
        if (wasStarting && startupFailure == null && !tail.isEmpty()) {
            startupFailure = String.join("\n", tail);
        }
        if (building && wasStarting && settings.minReadyWorkers() == settings.workers()) {
            // Every worker is required and this one could not start: the same would happen again.
            synchronized (lifecycle) {
                buildFailure = "worker " + w.id + " failed to start: " + what
                        + (startupFailure == null ? "" : "\n" + startupFailure);
                lifecycle.notifyAll();
            }
            return;
        }
        pool.monitor().incident("worker " + w.id + " (pid " + w.pid() + ") " + what + (wasStarting ? " while starting" : ""));
        long delay;
        if (wasStarting) {
            LOG.warn("pool '{}': worker {} failed to start: {}{}", pool.name(), w.id, what,
                    startupFailure == null ? "" : "\n" + startupFailure);
            int failures = startFailures[w.slot].incrementAndGet();
            if (failures >= settings.maxConsecutiveStartFailures()) {
                giveUp(w, failures, what, startupFailure);
                return;
            }
            delay = backoff(failures);
        } else {
            LOG.warn("pool '{}': worker {} (pid {}) {}; replacing it{}", pool.name(), w.id, w.pid(), what, stderrSuffix(tail));
            delay = backoff(crashStreak(w.slot));
        }
        replace(w, "replaces " + w.id + ", which " + what, delay);
    }

    private static long backoff(int failures) {
        return failures <= 1 ? 0 : Math.min(MAX_BACKOFF_MILLIS, 100L << Math.min(20, failures - 2));
    }

    private synchronized int crashStreak(int slot) {
        long now = System.nanoTime();
        crashStreak[slot] = lastCrashNanos[slot] != 0 && now - lastCrashNanos[slot] < CRASH_STREAK_NANOS
                ? crashStreak[slot] + 1 : 1;
        lastCrashNanos[slot] = now;
        return crashStreak[slot];
    }

    private void giveUp(Worker w, int failures, String what, String startupFailure) {
        String why = "gave up on slot " + w.slot + " after " + failures + " failed starts in a row"
                + " (maxConsecutiveStartFailures); the last: worker " + w.id + " " + what
                + (startupFailure == null ? "" : ": " + lastLine(startupFailure))
                + "; it is tried again in " + settings.slotRetryAfter().toMillis() + " ms";
        givenUp[w.slot] = why;
        pool.monitor().incident(why);
        LOG.error("pool '{}': {}", pool.name(), why);
        synchronized (lifecycle) {
            lifecycle.notifyAll(); // a build waiting for this slot can stop waiting
        }
        pool.timers().after(settings.slotRetryAfter().toNanos(), () -> {
            // One more try; if it fails too, the slot is given up again at once.
            startFailures[w.slot].set(settings.maxConsecutiveStartFailures() - 1);
            replace(w, "retries slot " + w.slot + " after it was given up", 0);
        });
    }

    private static String lastLine(String text) {
        String s = text.strip();
        int nl = s.lastIndexOf('\n'); // a Python traceback says what happened on its last line
        return nl < 0 ? s : s.substring(nl + 1);
    }

    private static String stderrSuffix(List<String> tail) {
        return tail.isEmpty() ? "" : "; its last stderr lines:\n  " + String.join("\n  ", tail);
    }

    /**
     * Puts a new worker in the slot now, STARTING, and launches it after {@code delayMillis} (the
     * backoff). Sessions pin to it and calls wait for it meanwhile, instead of finding no worker.
     */
    private void replace(Worker old, String cause, long delayMillis) {
        Worker fresh;
        synchronized (lifecycle) {
            Worker[] current = workers;
            if (pool.isClosed() || old.slot >= current.length || current[old.slot] != old) {
                return;
            }
            Worker[] next = current.clone();
            fresh = newWorker(old.slot);
            fresh.replaces(cause + (delayMillis > 0 ? " (starting after a backoff of " + delayMillis + " ms)" : ""));
            next[old.slot] = fresh;
            workers = next;
        }
        restarts.incrementAndGet();
        pool.listeners().workerReplaced(old.id, fresh.id, cause);
        if (delayMillis <= 0) {
            requestStart(fresh);
        } else {
            pool.timers().after(TimeUnit.MILLISECONDS.toNanos(delayMillis), () -> requestStart(fresh));
        }
    }

    // ---- retiring and recycling ------------------------------------------------------------------

    /**
     * Takes a worker out of service: no new work, its sessions' waiting calls move on, a
     * replacement starts at once. Gentle (recycling): end of input once its calls are done.
     * Otherwise (a call it runs overran its deadline): killed as soon as nothing it runs is
     * within its deadline.
     */
    void retire(Worker w, String reason, boolean gentle) {
        if (!w.drain(reason, gentle)) {
            return;
        }
        pool.monitor().incident("worker " + w.id + " (pid " + w.pid() + ") " + (gentle ? "recycled: " : "retired: ") + reason);
        if (gentle) {
            LOG.info("pool '{}': recycling worker {} (pid {}): {}", pool.name(), w.id, w.pid(), reason);
            pool.listeners().workerRecycled(w.id, reason);
        } else {
            LOG.warn("pool '{}': worker {} (pid {}) {}; replacing it", pool.name(), w.id, w.pid(), reason);
            pool.listeners().workerRetired(w.id, reason);
        }
        retiring.add(w);
        replace(w, "replaces " + w.id + ", which " + reason, 0);
        pool.dispatcher().drainWorkerQueue(w, reason);
        finishDrainIfDone(w);
        long now = System.nanoTime();
        long last = w.lastPendingDeadline(now);
        if (!gentle && last - now > 0) {
            pool.timers().after(last - now + 1, () -> finishDrainIfDone(w));
        }
    }

    void finishDrainIfDone(Worker w) {
        if (w.state() != Worker.State.DRAINING) {
            return;
        }
        WorkerTransport t = w.transport();
        if (w.gentle()) {
            if (!w.hasPending() && w.end(Worker.State.STOPPED, "recycled: " + w.endReason())) {
                retiring.remove(w);
                t.closeInput(); // a clean exit; killed later only if it does not go
                pool.timers().after(TimeUnit.SECONDS.toNanos(5), () -> {
                    if (!t.exited()) {
                        t.kill("it did not exit within 5 s of end of input after it was recycled");
                    }
                });
            }
            return;
        }
        long now = System.nanoTime();
        if (w.lastPendingDeadline(now) - now <= 0) {
            t.kill("it was retired: " + w.endReason());
        }
    }

    /** The worker a new session is pinned to: fewest sessions, then fewest calls in flight. */
    Worker leastLoadedForSession() {
        Worker best = null;
        for (Worker w : workers) {
            if (!w.inService()) {
                continue;
            }
            if (best == null || better(w, best)) {
                best = w;
            }
        }
        return best;
    }

    private static boolean better(Worker a, Worker b) {
        if (a.isReady() != b.isReady()) {
            return a.isReady();
        }
        if (a.pinnedSessions() != b.pinnedSessions()) {
            return a.pinnedSessions() < b.pinnedSessions();
        }
        return a.inFlight() < b.inFlight();
    }

    /** Kills a worker the health check found broken; its death then runs the usual path. */
    void fail(Worker w, String why) {
        WorkerTransport t = w.transport();
        if (t != null && w.isAlive()) {
            t.kill(why);
        }
    }

    // ---- closing ---------------------------------------------------------------------------------

    void stopSpawning() throws InterruptedException {
        spawner.shutdown();
        spawner.awaitTermination(30, TimeUnit.SECONDS);
    }

    WorkerLauncher launcher() {
        return launcher;
    }
}
