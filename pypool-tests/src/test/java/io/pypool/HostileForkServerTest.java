package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.testkit.PypoolExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The fork server's template process itself, treated badly while its workers serve. */
class HostileForkServerTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @TempDir
    Path tmp;


    private static Throwable failureOf(CompletableFuture<?> f) {
        try {
            f.join();
            return null;
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    @Test
    void killingTheTemplateFailsRunningCallsSoonWithATypedErrorAndThePoolHeals() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(2).callTimeout(Duration.ofSeconds(60)));
        List<Long> workers = TestPools.pids(pool);
        long template = TestPools.parentOf(workers.get(0));
        assertThat(TestPools.parentOf(workers.get(1))).isEqualTo(template);
        CompletableFuture<JsonNode> a = pool.callAsync("t.wait_for_file", Map.of("path", tmp.resolve("never-a").toString()));
        CompletableFuture<JsonNode> b = pool.callAsync("t.wait_for_file", Map.of("path", tmp.resolve("never-b").toString()));
        await().until(() -> pool.stats().busyWorkers() == 2);

        long killedAt = System.nanoTime();
        TestPools.signal(template, "KILL");

        // The workers die with their template (parent-death signal): their calls must fail with a
        // typed error well before their 60 s deadline.
        CompletableFuture.allOf(a.exceptionally(t -> null), b.exceptionally(t -> null)).get(20, TimeUnit.SECONDS);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        assertThat(failureOf(a)).isInstanceOf(WorkerCrashedException.class);
        assertThat(failureOf(b)).isInstanceOf(WorkerCrashedException.class);
        assertThat(tookMs).as("ms from the template's death to the calls' failure").isLessThan(10_000);

        await().atMost(Duration.ofSeconds(30)).until(() -> TestPools.allReady(pool, 2));
        List<Long> replacements = TestPools.pids(pool);
        assertThat(replacements).doesNotContainAnyElementsOf(workers);
        assertThat(pool.call("add", List.of(2, 3), Integer.class)).isEqualTo(5);
        await().until(() -> !TestPools.alive(workers.get(0)) && !TestPools.alive(workers.get(1)));
        long newTemplate = TestPools.parentOf(replacements.get(0));
        assertThat(newTemplate).isNotEqualTo(template);
    }

    @Test
    void stoppedTemplateDoesNotHangReplacementsForever() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1).callTimeout(Duration.ofSeconds(60))
                .startupTimeout(Duration.ofSeconds(3)));
        long victim = TestPools.pids(pool).get(0);
        long template = TestPools.parentOf(victim);
        TestPools.signal(template, "STOP");
        try {
            TestPools.signal(victim, "KILL");
            // The template cannot fork while stopped; a call must still end within its deadline
            // and the pool must come back once the template is usable or replaced.
            Throwable t = failureOf(pool.callAsync("add", List.of(1, 2), JsonNode.class, CallOptions.timeout(Duration.ofSeconds(20))));
            assertThat(t).as("a call while the only worker is dead and the template stopped").isNotNull();
        } finally {
            TestPools.signal(template, "CONT");
        }
        await().atMost(Duration.ofSeconds(40)).until(() -> TestPools.allReady(pool, 1));
        assertThat(pool.call("add", List.of(2, 3), Integer.class)).isEqualTo(5);
    }
}
