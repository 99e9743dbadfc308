package io.pypool.ray;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The builder refuses what would only fail later on the cluster, and says what is wrong; no Ray needed. */
class RayBackendBuilderTest {

    @Test
    void addressesMustBeHostAndPort() {
        for (String bad : List.of("localhost", "localhost:99999", "localhost:0", "ray://h:10001", "h :1", "")) {
            assertThatThrownBy(() -> RayBackend.builder().address(bad))
                    .as(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("host:port");
        }
        assertThatCode(() -> RayBackend.builder().address("10.0.0.5:6379").build()).doesNotThrowAnyException();
    }

    @Test
    void resourcesMustBeCustomAndPositive() {
        assertThatThrownBy(() -> RayBackend.builder().resource("CPU", 1)).hasMessageContaining("numCpus");
        assertThatThrownBy(() -> RayBackend.builder().resource("x", 0)).hasMessageContaining("more than 0");
        assertThatThrownBy(() -> RayBackend.builder().resource("x", Double.NaN)).hasMessageContaining("more than 0");
        assertThatThrownBy(() -> RayBackend.builder().numCpus(-1)).hasMessageContaining("0 or more");
        assertThatThrownBy(() -> RayBackend.builder().numGpus(Double.POSITIVE_INFINITY)).hasMessageContaining("0 or more");
    }

    @Test
    void runtimeEnvFieldsRayWouldRejectAreRefusedHere() {
        assertThatThrownBy(() -> RayBackend.builder().runtimeEnv("env_vars", "A=1")).hasMessageContaining("Map of String to String");
        assertThatThrownBy(() -> RayBackend.builder().runtimeEnv("env_vars", Map.of("A", 1))).hasMessageContaining("Map of String to String");
        assertThatThrownBy(() -> RayBackend.builder().runtimeEnv("py_modules", "x")).hasMessageContaining("List");
        assertThatCode(() -> RayBackend.builder().runtimeEnv("env_vars", Map.of("A", "1")).runtimeEnv("pip", List.of("x")))
                .doesNotThrowAnyException();
    }

    @Test
    void localOnlyPoolSettingsAreRefusedWithABackendRatherThanIgnored() {
        RayBackend ray = RayBackend.builder().address("10.0.0.5:6379").build();
        assertThatThrownBy(() -> io.pypool.PythonPool.builder().backend(ray).pythonExecutable("python3")
                .recycleAboveRssBytes(1 << 30).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pythonExecutable, recycleAboveRssBytes cannot be used with backend Ray at 10.0.0.5:6379");
    }

    @Test
    void withoutAnAddressBuildSaysWhereOneComesFrom() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("ray.address") == null && System.getenv("RAY_ADDRESS") == null);
        assertThatThrownBy(() -> RayBackend.builder().build()).hasMessageContaining("RAY_ADDRESS");
    }
}
