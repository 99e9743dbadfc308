package io.pypool;

import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends worker processes left over by earlier runs whose JVM is gone. A process qualifies only if
 * its command line is a pypool worker's ({@code pypool_worker.py} or module {@code pypool.worker},
 * with a {@code --run-id}) and the JVM named by its {@code --parent-pid} is no longer among its ancestors; the command line is read
 * again right before the kill, so a recycled PID is never taken for a worker.
 */
final class OrphanReaper {
    private static final Logger LOG = LoggerFactory.getLogger(PythonPool.class);

    private OrphanReaper() {}

    static int reap(String poolName) {
        int ended = 0;
        for (ProcessHandle p : ProcessHandle.allProcesses().toList()) {
            if (isOrphanedWorker(p)) {
                String runId = argAfter(p, "--run-id").orElse("?");
                if (isOrphanedWorker(p) && p.destroyForcibly()) {
                    ended++;
                    LOG.warn("pool '{}': ended pid {}, a leftover worker of run {} whose JVM is gone",
                            poolName, p.pid(), runId);
                }
            }
        }
        return ended;
    }

    static boolean isOrphanedWorker(ProcessHandle p) {
        if (!p.isAlive() || p.pid() == ProcessHandle.current().pid()) {
            return false;
        }
        Optional<String[]> args = p.info().arguments();
        if (args.isEmpty()) {
            return false;
        }
        List<String> list = List.of(args.get());
        int module = list.indexOf("pypool.worker");
        boolean byModule = module >= 1 && "-m".equals(list.get(module - 1));
        boolean byScript = list.stream().anyMatch(a -> a.endsWith("/pypool_worker.py"));
        if (!(byModule || byScript) || !list.contains("--run-id")) {
            return false;
        }
        Optional<String> parentArg = argAfter(list, "--parent-pid");
        if (parentArg.isEmpty()) {
            return false;
        }
        long recordedParent;
        try {
            recordedParent = Long.parseLong(parentArg.get());
        } catch (NumberFormatException e) {
            return false;
        }
        // Its JVM is gone, or it is no longer below it: a worker's own fork child (same command
        // line) still has the live JVM among its ancestors and is left alone.
        for (Optional<ProcessHandle> up = p.parent(); up.isPresent(); up = up.get().parent()) {
            if (up.get().pid() == recordedParent) {
                return false;
            }
        }
        return true;
    }

    private static Optional<String> argAfter(ProcessHandle p, String flag) {
        return p.info().arguments().flatMap(a -> argAfter(List.of(a), flag));
    }

    private static Optional<String> argAfter(List<String> args, String flag) {
        int i = args.indexOf(flag);
        return i >= 0 && i + 1 < args.size() ? Optional.of(args.get(i + 1)) : Optional.empty();
    }
}
