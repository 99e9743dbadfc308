package io.pypool;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * Starts workers as local Python processes: {@code python RUNTIME/pypool_worker.py ...}. Started
 * by the path of a bootstrap script, not with {@code -m}, so that Python puts pypool's runtime
 * folder first on {@code sys.path} instead of the JVM's working directory: a folder named
 * {@code pypool} or a file named {@code json.py} there cannot shadow anything.
 */
final class ProcessLauncher implements WorkerLauncher {
    private static final List<String> THREAD_CAPS = List.of("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
            "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS");

    private final PoolSettings settings;
    private final String python;
    private final Path runtimeDir;
    private final Executor blocking;
    private final GroupReaper reaper;

    ProcessLauncher(PoolSettings settings, String python, Path runtimeDir, Executor blocking) {
        this.settings = settings;
        this.python = python;
        this.runtimeDir = runtimeDir;
        this.blocking = blocking;
        this.reaper = GroupReaper.start(settings.name(), python, runtimeDir, settings.runId());
    }

    @Override
    public WorkerTransport launch(String workerId, WorkerTransport.Events events) throws IOException {
        ProcessBuilder builder = processBuilder(workerId);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new IOException("could not start '" + builder.command().get(0) + "': " + e.getMessage(), e);
        }
        return new ProcessTransport(settings.name(), workerId, process, events, reaper, blocking, settings.maxFrameBytes())
                .outputLevel(settings.workerOutputLevel());
    }

    ProcessBuilder processBuilder(String workerId) {
        List<String> command = new ArrayList<>(List.of(python, runtimeDir.resolve("pypool_worker.py").toString(),
                "--parent-pid", Long.toString(ProcessHandle.current().pid())));
        command.addAll(workerArguments(settings, workerId));
        ProcessBuilder builder = new ProcessBuilder(command);
        if (settings.workingDirectory() != null) {
            builder.directory(settings.workingDirectory().toFile());
        }
        Map<String, String> env = builder.environment();
        // N workers each spawning a thread per core for BLAS/OpenMP would starve the machine.
        for (String cap : THREAD_CAPS) {
            env.put(cap, "1");
        }
        env.putAll(settings.environment());
        env.put("PYTHONUNBUFFERED", "1");
        StringBuilder path = new StringBuilder(runtimeDir.toString());
        for (Path p : settings.pythonPath()) {
            path.append(File.pathSeparatorChar).append(p);
        }
        String inherited = settings.environment().getOrDefault("PYTHONPATH", System.getenv("PYTHONPATH"));
        if (inherited != null) {
            for (String entry : inherited.split(File.pathSeparator)) {
                if (!entry.isEmpty()) { // an empty entry would mean the working directory
                    path.append(File.pathSeparatorChar).append(entry);
                }
            }
        }
        env.put("PYTHONPATH", path.toString());
        return builder;
    }

    /** The runtime's arguments for one worker, but for {@code --parent-pid}: shared with remote backends. */
    static List<String> workerArguments(PoolSettings settings, String workerId) {
        List<String> args = new ArrayList<>(List.of("--pool", settings.name(), "--worker", workerId,
                "--run-id", settings.runId(),
                "--concurrency", Integer.toString(settings.handlerThreads()),
                "--max-frame-bytes", Integer.toString(settings.maxFrameBytes())));
        for (String module : settings.handlerModules()) {
            args.add("--module");
            args.add(module);
        }
        return args;
    }

    GroupReaper reaper() {
        return reaper;
    }

    long reaperPid() {
        return reaper.pid();
    }

    @Override
    public void close() {
        reaper.close();
    }
}
