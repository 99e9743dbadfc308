package io.pypool.bench;

import io.pypool.PoolStats;
import io.pypool.PythonPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The memory a pool's Python processes take, read from {@code /proc/PID/smaps_rollup}: PSS counts
 * a page shared by n processes as 1/n in each, so forked workers that share their imports with a
 * template show what they really cost, where RSS would count every shared page in full.
 *
 * @param workersPss  the workers' PSS, summed
 * @param workersRss  the workers' RSS, summed
 * @param templatePss the PSS of the processes that forked them (0 when they are the JVM's own children)
 */
record WorkerMemory(long workersPss, long workersRss, long templatePss) {

    static WorkerMemory of(PythonPool pool) throws IOException {
        long pss = 0;
        long rss = 0;
        Set<Long> parents = new LinkedHashSet<>();
        long jvm = ProcessHandle.current().pid();
        for (PoolStats.Worker w : pool.stats().workers()) {
            pss += rollup(w.pid(), "Pss:");
            rss += rollup(w.pid(), "Rss:");
            ProcessHandle.of(w.pid()).flatMap(ProcessHandle::parent).map(ProcessHandle::pid)
                    .filter(p -> p != jvm).ifPresent(parents::add);
        }
        long template = 0;
        for (long p : parents) {
            template += rollup(p, "Pss:");
        }
        return new WorkerMemory(pss, rss, template);
    }

    private static long rollup(long pid, String field) throws IOException {
        Path file = Path.of("/proc/" + pid + "/smaps_rollup");
        if (!Files.isReadable(file)) {
            return 0; // not Linux, or the process is gone: no figure rather than a wrong one
        }
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return 0;
    }
}
