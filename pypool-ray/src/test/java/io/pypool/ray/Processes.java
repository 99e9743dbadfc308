package io.pypool.ray;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

/** Local processes, for the tests' checks: on a cluster on this machine every actor and worker is one. */
final class Processes {
    private Processes() {}

    static long parentOf(long pid) {
        return ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L);
    }

    /** Alive and not a zombie. */
    static boolean alive(long pid) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            return false;
        }
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (java.io.IOException e) {
            return false;
        }
    }

    static void signal(long pid, String signal) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor()).isZero();
    }

    static void assertNoneAlive(List<Long> pids) {
        assertThat(pids).allSatisfy(p -> assertThat(alive(p)).as("process %d is still running", p).isFalse());
    }
}
