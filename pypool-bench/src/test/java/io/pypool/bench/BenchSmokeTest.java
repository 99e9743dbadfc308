package io.pypool.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the benchmark as its users do, shortened, so that a change to pypool's API or to the
 * floor's framing breaks the build here rather than the next time someone wants figures.
 */
class BenchSmokeTest {

    @Test
    void quickLatencyRunWritesTheFiguresAsJson(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");
        ByteArrayOutputStream console = new ByteArrayOutputStream();

        int exit = Bench.run(new PrintStream(console, true, StandardCharsets.UTF_8),
                "--quick", "--only", "latency", "--json", json.toString(), "--markdown");

        String printed = console.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(printed).isZero();
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.path("machine").path("cores").asInt()).isPositive();
        assertThat(root.path("machine").path("pythonVersion").asText()).startsWith("3.");
        JsonNode latency = root.path("latency");
        for (String side : new String[] {"floor", "pypool"}) {
            assertThat(latency.path(side).path("p50Us").asDouble()).as(side + " p50").isPositive();
            assertThat(latency.path(side).path("p99Us").asDouble()).as(side + " p99")
                    .isGreaterThanOrEqualTo(latency.path(side).path("p50Us").asDouble());
            assertThat(latency.path(side).path("calls").asLong()).as(side + " calls").isPositive();
        }
        assertThat(latency.path("p50Ratio").asDouble()).isPositive();
        assertThat(latency.path("blockRatioMax").asDouble()).isGreaterThanOrEqualTo(latency.path("blockRatioMin").asDouble());
        assertThat(root.has("throughput")).as("only the chosen section runs").isFalse();
        assertThat(printed).contains("pypool / floor").contains("| pypool |");
    }

    @Test
    void aBadCommandLineIsRefusedBeforeAnythingStarts() {
        assertThat(Bench.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                "--only", "latncy")).isEqualTo(2);
    }
}
