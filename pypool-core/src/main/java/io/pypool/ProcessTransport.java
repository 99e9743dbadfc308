package io.pypool;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A worker that is a local Python process, spoken to through its pipes: a {@link FrameWriter}
 * for its input, a reader thread for its frames, a thread that drains stderr into the log. Its
 * death is seen from the process's exit, not only from the end of its output, since a forked
 * child may hold the pipes open long after the worker died. On death its whole process group is
 * killed through the pool's {@link GroupReaper}.
 */
final class ProcessTransport implements WorkerTransport {
    private final Process process;
    private final Events events;
    private final GroupReaper reaper;
    private final Executor blocking;
    private final int maxFrameBytes;
    private final FrameWriter writer;
    private final Thread reader;
    private final Thread stderr;
    private final WorkerOutputLog output;
    private final AtomicBoolean deathReported = new AtomicBoolean();
    private volatile String endedByPool;
    private volatile String protocolError;

    ProcessTransport(String poolName, String workerId, Process process, Events events, GroupReaper reaper,
                     Executor blocking, int maxFrameBytes) {
        this.process = process;
        this.events = events;
        this.reaper = reaper;
        this.blocking = blocking;
        this.maxFrameBytes = maxFrameBytes;
        reaper.watch(process.pid());
        this.output = new WorkerOutputLog(poolName, workerId, () -> "pid " + process.pid());
        String tag = poolName + "-" + workerId;
        this.writer = new FrameWriter(process.getOutputStream(), tag + "-writer",
                e -> endIfStillRunning("writing to it failed (" + e.getMessage() + ") but it kept running"));
        this.reader = Worker.daemon(tag + "-reader", this::readLoop);
        this.stderr = Worker.daemon(tag + "-stderr", this::drainStderr);
    }

    /** Sets the level of the worker's plain output lines; before {@link #start()}. */
    ProcessTransport outputLevel(org.slf4j.event.Level level) {
        output.outputLevel(level);
        return this;
    }

    @Override
    public void start() {
        reader.start();
        stderr.start();
        // The exit is the truth; the JDK completes this on its own reaper thread, so the work goes elsewhere.
        process.onExit().thenRunAsync(this::reportDeath, blocking);
    }

    @Override
    public void send(byte[] frame, long unreadBytes) {
        writer.send(frame, unreadBytes);
    }

    @Override
    public void closeInput() {
        writer.close();
    }

    @Override
    public void kill(String why) {
        if (endedByPool == null && protocolError == null) {
            endedByPool = why;
        }
        reaper.kill(process.pid()); // the whole group, now
        // Children that left the group are found by walking /proc, which is not for the caller's
        // thread; they must be listed before the worker dies, or they are no longer its children.
        blocking.execute(() -> {
            List<ProcessHandle> children = List.of();
            try {
                children = process.descendants().toList();
            } catch (RuntimeException ignored) {
                // the tree may be gone already
            }
            process.destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
        });
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public ProcFs.Sample sample() {
        return ProcFs.sample(process.pid());
    }

    @Override
    public List<String> stderrTail() {
        return output.tail();
    }

    @Override
    public boolean exited() {
        return !process.isAlive();
    }

    @Override
    public boolean awaitExit(long millis) throws InterruptedException {
        return process.waitFor(millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void joinThreads(long millis) {
        try {
            writer.join(millis);
            reader.join(millis);
            stderr.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void readLoop() {
        DataInputStream in = new DataInputStream(new BufferedInputStream(process.getInputStream(), 1 << 16));
        try {
            FrameCodec.Frame frame;
            while ((frame = FrameCodec.read(in, maxFrameBytes)) != null) {
                events.onFrame(frame);
            }
            endIfStillRunning("it closed its protocol output but kept running");
        } catch (FrameCodec.MalformedFrameException e) {
            breakProtocol("sent a malformed frame: " + e.getMessage());
        } catch (IOException e) {
            endIfStillRunning("reading its output failed (" + e.getMessage() + ") but it kept running");
        } catch (WorkerTransport.Violation e) {
            breakProtocol(e.getMessage());
        } catch (RuntimeException e) {
            breakProtocol("sent output the pool could not handle: " + e);
        }
    }

    /** What it wrote cannot be trusted: it is killed, and every call on it fails with that reason. */
    void breakProtocol(String what) {
        if (protocolError == null) {
            protocolError = what;
        }
        kill(what);
    }

    /**
     * Its pipe broke or its output ended: usually because it died, which its exit reports with the
     * true cause (a signal, an exit code). Only if it is still running a moment later is it ended
     * here, for this reason.
     */
    private void endIfStillRunning(String why) {
        blocking.execute(() -> {
            try {
                if (!process.waitFor(500, TimeUnit.MILLISECONDS)) {
                    kill(why);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    private void reportDeath() {
        if (!deathReported.compareAndSet(false, true)) {
            return;
        }
        writer.stop();
        reaper.kill(process.pid()); // whatever it started goes with it
        try {
            // What it wrote before it died (replies, stream items) is delivered before the verdict on
            // what it left unanswered; its output ends now that its process group is gone.
            reader.join(1_000);
            stderr.join(1_000); // its last lines explain the crash; a stuck drain must not hold the verdict
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        events.onDeath(new Death(process.exitValue(), endedByPool, protocolError, stderrTail()));
    }

    private void drainStderr() {
        try (BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = err.readLine()) != null) {
                output.line(line);
            }
        } catch (IOException e) {
            // Normally the end of a dead process's stream; kept in case lines were lost with it.
            if (process.isAlive()) {
                output.trouble("reading stderr failed: " + e);
            }
        } catch (RuntimeException e) {
            output.trouble("the stderr drain failed: " + e);
        }
    }
}
