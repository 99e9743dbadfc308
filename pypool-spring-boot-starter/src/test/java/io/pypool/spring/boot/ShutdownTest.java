package io.pypool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.pypool.PoolStats;
import io.pypool.PythonPool;
import io.pypool.spring.boot.app.DemoApplication;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;

/** The context's close closes the pools, after the web server has let the requests in progress finish. */
class ShutdownTest {

    @Test
    void closingTheContextEndsEveryPythonProcessOfEveryPool() {
        List<PoolStats> seen = new ArrayList<>();
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(PypoolAutoConfiguration.class))
                .withPropertyValues("pypool.handler-modules=pypool.examples", "pypool.workers=1",
                        "pypool.pools.a.workers=2", "pypool.pools.b.fork-server=false")
                .run(context -> {
                    for (PythonPool pool : context.getBean(PythonPools.class).asMap().values()) {
                        PoolStats stats = pool.stats();
                        assertThat(stats.workers()).allSatisfy(w -> assertThat(ProcessHandle.of(w.pid())).isPresent());
                        assertThat(processesOf(stats.runId())).isNotEmpty();
                        seen.add(stats);
                    }
                });
        assertThat(seen).hasSize(2);
        for (PoolStats stats : seen) {
            assertThat(stats.workers()).allSatisfy(w ->
                    assertThat(ProcessHandle.of(w.pid()).filter(ProcessHandle::isAlive)).as("worker %s", w.pid()).isEmpty());
            assertThat(processesOf(stats.runId())).as("processes of pool %s", stats.name()).isEmpty();
        }
    }

    @Test
    void aRequestInProgressFinishesBeforeThePoolCloses() throws Exception {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(DemoApplication.class)
                .properties("server.port=0", "server.shutdown=graceful",
                        "pypool.handler-modules=pypool.examples", "pypool.workers=1")
                .run();
        PythonPool pool = context.getBean(PythonPool.class);
        PoolStats stats = pool.stats();
        String port = context.getEnvironment().getProperty("local.server.port");
        HttpRequest slow = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/wait?ms=1500")).build();
        CompletableFuture<HttpResponse<String>> response = HttpClient.newHttpClient()
                .sendAsync(slow, HttpResponse.BodyHandlers.ofString());

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.stats().workers().stream().mapToInt(PoolStats.Worker::inFlight).sum() == 0) {
            assertThat(System.nanoTime()).as("the request's call reached Python").isLessThan(deadline);
            Thread.sleep(10);
        }
        context.close();

        assertThat(response.isDone()).as("answered before the context finished closing").isTrue();
        assertThat(response.get().statusCode()).isEqualTo(200);
        assertThat(response.get().body()).isEqualTo("1500.0");
        assertThat(processesOf(stats.runId())).isEmpty();
    }

    /** The live processes whose command line carries {@code --run-id runId}: a pool's workers and fork server. */
    private static List<ProcessHandle> processesOf(String runId) {
        return ProcessHandle.allProcesses()
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().arguments().map(args -> {
                    int i = Arrays.asList(args).indexOf("--run-id");
                    return i >= 0 && i + 1 < args.length && args[i + 1].equals(runId);
                }).orElse(false))
                .toList();
    }

}
