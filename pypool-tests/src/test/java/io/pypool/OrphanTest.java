package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.parallel.Isolated
// One after the other: a pool started by one test would end the other's stand-in leftover.
@org.junit.jupiter.api.parallel.Execution(org.junit.jupiter.api.parallel.ExecutionMode.SAME_THREAD)
class OrphanTest {

    /** Run in a child JVM: builds a pool, prints its worker pids, then waits to be killed. */
    public static void main(String[] args) throws Exception {
        PythonPool pool = TestPools.builder().name("orphan-child").workers(Integer.parseInt(args[0])).build();
        for (long pid : TestPools.pids(pool)) {
            System.out.println("worker-pid " + pid);
        }
        // The fork server that forked them: the JVM's child, which must die with it too.
        ProcessHandle.of(TestPools.pids(pool).get(0)).flatMap(ProcessHandle::parent)
                .filter(p -> p.pid() != ProcessHandle.current().pid())
                .ifPresent(p -> System.out.println("template-pid " + p.pid()));
        // Handler children too: a subprocess and a libc fork child, which no Python hook sees.
        System.out.println("worker-pid " + pool.call("t.spawn_child", null, Long.class));
        System.out.println("worker-pid " + pool.call("t.fork_child", java.util.Map.of("libc", true), Long.class));
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    @Test
    void jvmKilledWithSigkillLeavesNoWorkerNoForkServerAndNoHandlerChild() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dpypool.testPythonPath=" + TestPools.TEST_HANDLERS.toAbsolutePath(),
                OrphanTest.class.getName(), "3")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<Long> pids = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !line.equals("ready")) {
                if (line.startsWith("worker-pid ") || line.startsWith("template-pid ")) {
                    pids.add(Long.parseLong(line.substring(line.indexOf(' ') + 1)));
                }
            }
            // 3 workers, their fork server, and 2 handler children.
            assertThat(pids).hasSize(6).allSatisfy(pid -> assertThat(TestPools.alive(pid)).isTrue());
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no close()
            child.waitFor();
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
                    .untilAsserted(() -> TestPools.assertNoneAlive(pids));
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void startingPoolEndsLeftoversOfAnEarlierRunAndNothingElse() throws Exception {
        String python = PythonRuntime.resolve("python3").executable();
        // A leftover: a stopped "worker" of a run whose JVM (pid 999999999) is gone. Stopped, it can
        // check nothing itself; only the reaper can end it.
        Process leftover = new ProcessBuilder(python, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSTOP)",
                "-m", "pypool.worker", "--run-id", "0ldrun", "--parent-pid", "999999999").start();
        // Not ours: same shape of command line, but no run id.
        Process bystander = new ProcessBuilder(python, "-c", "import time; time.sleep(600)", "-m", "pypool.worker")
                .start();
        try {
            await().until(() -> {
                ProcFs.Sample sample = ProcFs.sample(leftover.pid());
                return sample != null && sample.stopped();
            });
            try (PythonPool pool = TestPools.builder().workers(1).build()) {
                assertThat(pool.call("add", List.of(1, 2), Integer.class)).isEqualTo(3);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> !leftover.isAlive());
            assertThat(bystander.isAlive()).isTrue();
        } finally {
            leftover.destroyForcibly();
            bystander.destroyForcibly();
        }
    }
}
