package io.pypool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.pypool.PythonPool;
import io.pypool.spring.boot.app.DemoApplication;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

/** A real application on a random port: a pool of python3 workers from properties, called through beans and HTTP. */
@SpringBootTest(classes = DemoApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
        "pypool.handler-modules=pypool.examples",
        "pypool.workers=2",
        "management.endpoint.health.show-details=always",
})
class PypoolApplicationTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    PythonPool pool;

    @Autowired
    PythonPools pools;

    @Autowired
    MeterRegistry registry;

    @LocalServerPort
    int port;

    @Test
    void callsThePoolThroughItsBean() throws InterruptedException {
        assertThat(pool.call("add", Map.of("a", 2, "b", 3), Integer.class)).isEqualTo(5);
        assertThat(pools.names()).containsExactly("default");
        assertThat(pools.get("default")).isSameAs(pool);
        assertThat(pool.name()).isEqualTo("default");
        assertThat(pool.stats().workers()).hasSize(2);
    }

    @Test
    void givesTheCustomizersJavaFunctionToPython() throws InterruptedException {
        JsonNode quote = pool.call("quote", Map.of("sku", "tea", "qty", 4));
        assertThat(quote.get("total").asDouble()).isEqualTo(10.0);
    }

    @Test
    void servesAControllerThatCallsThePool() throws Exception {
        HttpResponse<String> response = get("/add?a=1.5&b=2");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(Double.parseDouble(response.body())).isEqualTo(3.5);
    }

    @Test
    void reportsThePoolInActuatorHealth() throws Exception {
        HttpResponse<String> response = get("/actuator/health");
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode health = JSON.readTree(response.body());
        assertThat(health.get("status").asText()).isEqualTo("UP");
        JsonNode pypool = health.at("/components/pypool");
        assertThat(pypool.get("status").asText()).isEqualTo("UP");
        JsonNode details = pypool.get("details");
        assertThat(details.get("pool").asText()).isEqualTo("default");
        assertThat(details.get("status").asText()).isEqualTo("HEALTHY");
        assertThat(details.get("workers").asInt()).isEqualTo(2);
        assertThat(details.get("readyWorkers").asInt()).isEqualTo(2);
        assertThat(details.get("problems").isArray()).isTrue();
        assertThat(details.get("problems")).isEmpty();
        assertThat(details.has("queuedCalls")).isTrue();
        assertThat(details.has("sessions")).isTrue();
        assertThat(details.has("restarts")).isTrue();
    }

    @Test
    void publishesMetersToTheApplicationsRegistry() throws InterruptedException {
        pool.call("echo", Map.of("value", "hi"));
        assertThat(registry.get("pypool.workers").tag("pool", "default").tag("state", "READY").gauge().value())
                .isEqualTo(2.0);
        // The call's end is recorded as its future completes, which may be just after the caller wakes.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                registry.find("pypool.calls").tag("pool", "default").tag("command", "echo").timers().stream()
                        .mapToLong(io.micrometer.core.instrument.Timer::count).sum()).isPositive());
    }

    private HttpResponse<String> get(String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).GET().build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
