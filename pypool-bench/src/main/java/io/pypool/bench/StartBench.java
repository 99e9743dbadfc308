package io.pypool.bench;

import io.pypool.PoolStats;
import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * How fast a pool starts, forked versus spawned: ready time for 1, 4 and 8 workers whose handler
 * module costs 1 s of CPU to import, the time until a worker killed with SIGKILL is replaced and
 * ready, the memory the workers take (PSS: shared pages counted once), and, given an interpreter
 * with DSPy, a pool of 1 and of 16 DSPy workers.
 *
 * <pre>java -cp pypool-bench/target/pypool-bench.jar io.pypool.bench.StartBench [PYTHON_WITH_DSPY]</pre>
 */
public final class StartBench {
    private StartBench() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("pypool-start-bench");
        try (InputStream in = StartBench.class.getResourceAsStream("/bench/cpu_import_handlers.py")) {
            Files.copy(in, dir.resolve("cpu_import_handlers.py"));
        }
        System.out.println("cores: " + Runtime.getRuntime().availableProcessors());
        if (args.length > 0 && args[0].equals("replace")) {
            replacement(dir, true);
            replacement(dir, false);
            return;
        }
        for (boolean fork : new boolean[] {true, false}) {
            double one = 0;
            for (int n : new int[] {1, 4, 8}) {
                PythonPoolBuilder b = PythonPool.builder().name("start-" + n).forkServer(fork).workers(n).pythonPath(dir)
                        .handlerModules("cpu_import_handlers").environment("BENCH_IMPORT_SECONDS", "1");
                double[] ready = new double[2];
                long[] pss = null;
                for (int round = 0; round < ready.length; round++) {
                    long t0 = System.nanoTime();
                    try (PythonPool pool = b.build()) {
                        ready[round] = (System.nanoTime() - t0) / 1e6;
                        pss = memory(pool);
                    }
                }
                Arrays.sort(ready);
                one = n == 1 ? ready[0] : one;
                System.out.printf("%-6s %2d workers, 1 s CPU import: ready in %6.0f ms (best of 2) = %.2fx one;"
                                + " workers' PSS %5.1f MB, RSS %5.1f MB (+ template PSS %4.1f MB)%n",
                        fork ? "fork" : "spawn", n, ready[0], ready[0] / one, pss[0] / 1e6, pss[1] / 1e6, pss[2] / 1e6);
            }
            replacement(dir, fork);
        }
        if (args.length > 0) {
            for (boolean fork : new boolean[] {true, false}) {
                double one = 0;
                for (int n : new int[] {1, 16}) {
                    long t0 = System.nanoTime();
                    try (PythonPool pool = PythonPool.builder().name("dspy-" + n).forkServer(fork).workers(n)
                            .pythonExecutable(args[0]).handlerModules("pypool.dspy").build()) {
                        double ms = (System.nanoTime() - t0) / 1e6;
                        one = n == 1 ? ms : one;
                        long[] pss = memory(pool);
                        System.out.printf("%-6s %2d DSPy workers: ready in %6.0f ms = %.2fx one; workers' PSS %6.1f MB,"
                                + " RSS %6.1f MB (+ template PSS %4.1f MB)%n",
                                fork ? "fork" : "spawn", n, ms, ms / one, pss[0] / 1e6, pss[1] / 1e6, pss[2] / 1e6);
                    }
                }
            }
        }
    }

    /**
     * Kills each worker of a pool of 5 once, one after the other; prints the median time from the
     * SIGKILL until the pool is whole again. Each kill hits another slot: a slot that crashes
     * again within a minute is refilled after a backoff, which this is not about.
     */
    private static void replacement(Path dir, boolean fork) throws Exception {
        int n = 5;
        try (PythonPool pool = PythonPool.builder().name("replace").forkServer(fork).workers(n).pythonPath(dir)
                .handlerModules("cpu_import_handlers").environment("BENCH_IMPORT_SECONDS", "1").build()) {
            double[] ms = new double[n];
            List<Long> victims = pool.stats().workers().stream().map(PoolStats.Worker::pid).toList();
            for (int i = 0; i < n; i++) {
                long victim = victims.get(i);
                long t0 = System.nanoTime();
                ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
                while (!whole(pool, n, victim)) {
                    java.util.concurrent.locks.LockSupport.parkNanos(200_000); // not a spin: 2 cores are shared with the pool
                }
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(ms);
            System.out.printf("%-6s replacement after SIGKILL until ready: median %6.1f ms (min %.1f, max %.1f, %d kills)%n",
                    fork ? "fork" : "spawn", ms[n / 2], ms[0], ms[n - 1], n);
        }
    }

    private static boolean whole(PythonPool pool, int n, long victim) {
        List<PoolStats.Worker> ws = pool.stats().workers();
        return ws.size() == n && ws.stream().allMatch(w -> w.state().equals("READY") && w.pid() != victim);
    }

    /** PSS and RSS of the workers summed, and the PSS of their fork server (0 when spawned). */
    private static long[] memory(PythonPool pool) throws IOException {
        long pss = 0;
        long rss = 0;
        List<Long> parents = new ArrayList<>();
        for (PoolStats.Worker w : pool.stats().workers()) {
            pss += rollup(w.pid(), "Pss:");
            rss += rollup(w.pid(), "Rss:");
            ProcessHandle.of(w.pid()).flatMap(ProcessHandle::parent).map(ProcessHandle::pid)
                    .filter(p -> p != ProcessHandle.current().pid() && !parents.contains(p)).ifPresent(parents::add);
        }
        long template = 0;
        for (long p : parents) {
            template += rollup(p, "Pss:");
        }
        return new long[] {pss, rss, template};
    }

    private static long rollup(long pid, String field) throws IOException {
        Optional<String> line = Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup")).stream()
                .filter(l -> l.startsWith(field)).findFirst();
        return line.map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024).orElse(0L);
    }
}
