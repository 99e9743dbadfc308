package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BuilderTest {

    @Test
    void invalidOptionsNameTheOptionAndTheValue() {
        assertThatThrownBy(() -> PythonPool.builder().workers(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("workers = '0' is invalid: must be between 1 and 1024");
        assertThatThrownBy(() -> PythonPool.builder().callTimeout(Duration.ZERO))
                .hasMessage("callTimeout = 'PT0S' is invalid: must be positive");
        assertThatThrownBy(() -> PythonPool.builder().startupTimeout(Duration.ofSeconds(-1)))
                .hasMessageContaining("startupTimeout = 'PT-1S' is invalid");
        assertThatThrownBy(() -> PythonPool.builder().maxInFlightPerWorker(0))
                .hasMessageContaining("maxInFlightPerWorker = '0'");
        assertThatThrownBy(() -> PythonPool.builder().maxQueuedCalls(-1))
                .hasMessageContaining("maxQueuedCalls = '-1'");
        assertThatThrownBy(() -> PythonPool.builder().handlerModules("my-handlers"))
                .hasMessageContaining("handlerModules = 'my-handlers' is invalid: not a Python module name");
        assertThatThrownBy(() -> PythonPool.builder().name("has space"))
                .hasMessageContaining("name = 'has space' is invalid");
        assertThatThrownBy(() -> PythonPool.builder().environment("A=B", "x"))
                .hasMessageContaining("environment = 'A=B' is invalid");
        assertThatThrownBy(() -> PythonPool.builder().maxFrameBytes(10))
                .hasMessageContaining("maxFrameBytes = '10'");
        assertThatThrownBy(() -> PythonPool.builder().callerSpin(Duration.ofMillis(2)))
                .hasMessage("callerSpin = 'PT0.002S' is invalid: must be between 0 and 1 ms");
        assertThatThrownBy(() -> PythonPool.builder().sessionIdleTtl(Duration.ZERO))
                .hasMessageContaining("sessionIdleTtl = 'PT0S'");
    }

    @Test
    void contradictoryOptionsFailAtBuild() {
        assertThatThrownBy(() -> PythonPool.builder().workers(2).minReadyWorkers(3).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("minReadyWorkers (3) must not exceed workers (2)");
        assertThatThrownBy(() -> PythonPool.builder().maxInFlightPerWorker(2).handlerThreads(4).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("handlerThreads (4) must not exceed maxInFlightPerWorker (2)");
    }

    @Test
    void byDefaultAWorkerPipelinesThroughOneHandlerThreadAndSettingInFlightAloneRunsThatManyAtOnce() {
        PoolSettings defaults = PythonPool.builder().settings();
        assertThat(defaults.maxInFlightPerWorker()).isEqualTo(64);
        assertThat(defaults.handlerThreads()).isEqualTo(1);
        assertThat(defaults.callerSpin()).isEqualTo(Duration.ofNanos(50_000));
        PoolSettings threaded = PythonPool.builder().maxInFlightPerWorker(8).settings();
        assertThat(threaded.handlerThreads()).isEqualTo(8);
        PoolSettings fewThreads = PythonPool.builder().handlerThreads(4).settings();
        assertThat(fewThreads.maxInFlightPerWorker()).isEqualTo(64);
        assertThat(fewThreads.handlerThreads()).isEqualTo(4);
        assertThat(PythonPool.builder().handlerThreads(100).settings().maxInFlightPerWorker()).isEqualTo(100);
        PoolSettings oneAtATime = PythonPool.builder().maxInFlightPerWorker(1).settings();
        assertThat(oneAtATime.handlerThreads()).isEqualTo(1);
        assertThat(oneAtATime.maxInFlightPerWorker()).isEqualTo(1);
    }

    @Test
    void perCallTimeoutMustBePositive() {
        assertThatThrownBy(() -> CallOptions.timeout(Duration.ofMillis(-5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout must be positive");
    }
}
