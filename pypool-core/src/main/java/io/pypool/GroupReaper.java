package io.pypool;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends whole worker process groups, handler subprocesses and fork children included. Each worker
 * leads its own process group; the JVM cannot signal a group, and a parent-death signal reaches
 * only the worker itself, so a small Python process per pool ({@code pypool_reaper.py}) does the
 * killing: told "watch" for every worker, "kill" when one ends, and when its input ends (the pool
 * closed, or the JVM died, even by SIGKILL) it kills every group it still watches. Where it is
 * not available, groups are killed with {@code kill -KILL -PGID} instead, while the JVM lives.
 */
final class GroupReaper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);

    private final String poolName;
    private final Process process;
    private final OutputStream commands;

    private GroupReaper(String poolName, Process process) {
        this.poolName = poolName;
        this.process = process;
        this.commands = process == null ? null : process.getOutputStream();
    }

    /** Starts the pool's reaper; never fails the pool: without one, groups are killed with kill(1). */
    static GroupReaper start(String poolName, String python, Path runtimeDir, String runId) {
        Path script = runtimeDir.resolve("pypool_reaper.py");
        if (!Files.isRegularFile(script)) {
            LOG.warn("pool '{}': no {} in the runtime; handler children are ended only while the JVM lives", poolName, script);
            return new GroupReaper(poolName, null);
        }
        try {
            Process p = new ProcessBuilder(List.of(python, script.toString(), "--pool", poolName, "--run-id", runId))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            // Not waited for: commands sent before it is up wait in its input. Its greeting is
            // checked on the side, so the pool's start does not pay for one more interpreter start.
            Worker.daemon("pypool-" + poolName + "-reaper-check", () -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String first = out.readLine();
                    if (!"ready".equals(first) && p.isAlive()) {
                        LOG.warn("pool '{}': the group reaper said '{}' instead of ready; handler children may "
                                + "outlive a JVM that is killed", poolName, first);
                    }
                } catch (IOException e) {
                    LOG.debug("pool '{}': reading the group reaper's greeting failed: {}", poolName, e.getMessage());
                }
            }).start();
            return new GroupReaper(poolName, p);
        } catch (IOException e) {
            LOG.warn("pool '{}': the group reaper could not start ({}); handler children are ended only while the JVM lives",
                    poolName, e.getMessage());
            return new GroupReaper(poolName, null);
        }
    }

    long pid() {
        return process == null ? -1 : process.pid();
    }

    void watch(long pgid) {
        tell("watch " + pgid);
    }

    /** Kills the group now (non-blocking: a line to the reaper, or a kill(1) started in the background). */
    void kill(long pgid) {
        if (pgid <= 1) {
            return;
        }
        if (!tell("kill " + pgid)) {
            // Starting a process blocks the caller for a moment: a thread of its own does it.
            Worker.daemon("pypool-" + poolName + "-kill", () -> {
                try {
                    new ProcessBuilder("kill", "-KILL", "--", "-" + pgid).redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                } catch (IOException e) {
                    LOG.debug("pool '{}': kill -KILL -{} failed: {}", poolName, pgid, e.getMessage());
                }
            }).start();
        }
    }

    private synchronized boolean tell(String line) {
        if (commands == null || !process.isAlive()) {
            return false;
        }
        try {
            commands.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            commands.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** End of its input: it kills every group it still watches, then exits. */
    @Override
    public void close() {
        if (process == null) {
            return;
        }
        synchronized (this) {
            try {
                commands.close();
            } catch (IOException ignored) {
                // it is ending either way
            }
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
