package io.pypool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What Linux's /proc says about a worker process; absent elsewhere (then checks rely on pings alone). */
final class ProcFs {
    private ProcFs() {}

    /**
     * @param state    the scheduler state letter: R running, S sleeping, D disk wait, T stopped, Z zombie
     * @param cpuTicks user plus system CPU time, in clock ticks
     * @param rssBytes resident memory, or -1 if unknown
     */
    record Sample(char state, long cpuTicks, long rssBytes) {
        boolean stopped() {
            return state == 'T' || state == 't';
        }
    }

    static Sample sample(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // The command name in parentheses may hold spaces; the fields after it do not.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long cpu = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return new Sample(f[0].charAt(0), cpu, rss(pid));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long rss(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring(6).strip().split("\\s+")[0]) * 1024;
            }
        }
        return -1;
    }
}
