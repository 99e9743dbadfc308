package com.example.quotes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

/** The application on a random port, called over HTTP as its clients and its monitoring would. */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class ShopApplicationTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    @LocalServerPort
    int port;

    @Test
    void answersFromPython() throws Exception {
        assertThat(get("/total?prices=10,5.5&discount=10").get("total").asDouble()).isEqualTo(13.95);
    }

    @Test
    void answersFromPythonThatCalledBackIntoJava() throws Exception {
        JsonNode quote = get("/quote?sku=tea&qty=3");
        assertThat(quote.get("sku").asText()).isEqualTo("tea");
        assertThat(quote.get("total").asDouble()).isEqualTo(7.5);
    }

    @Test
    void reportsThePoolInTheHealthEndpoint() throws Exception {
        JsonNode health = get("/actuator/health");
        assertThat(health.get("status").asText()).isEqualTo("UP");
        JsonNode pypool = health.at("/components/pypool");
        assertThat(pypool.get("status").asText()).isEqualTo("UP");
        assertThat(pypool.at("/details/status").asText()).isEqualTo("HEALTHY");
        assertThat(pypool.at("/details/readyWorkers").asInt()).isEqualTo(2);
        assertThat(pypool.at("/details/problems").isArray()).isTrue();
    }

    @Test
    void publishesThePoolsMeters() throws Exception {
        get("/total?prices=1,2");
        // A call's end is recorded as its future completes, which may be just after the caller has its answer.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode calls = get("/actuator/metrics/pypool.calls?tag=command:price.total");
            assertThat(calls.get("name").asText()).isEqualTo("pypool.calls");
            assertThat(calls.at("/measurements/0/value").asDouble()).isPositive();
        });
    }

    private JsonNode get(String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET %s: %s", path, response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }
}
