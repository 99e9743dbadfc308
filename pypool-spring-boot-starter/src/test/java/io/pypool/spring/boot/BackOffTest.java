package io.pypool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.pypool.PythonPool;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The starter makes no pool when told not to, or when the application makes its own. */
class BackOffTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PypoolAutoConfiguration.class,
                    PypoolHealthAutoConfiguration.class, PypoolMetricsAutoConfiguration.class))
            .withPropertyValues("pypool.handler-modules=pypool.examples", "pypool.workers=1");

    @Test
    void makesNoPoolWhenDisabled() {
        runner.withPropertyValues("pypool.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(PythonPools.class);
            assertThat(context).doesNotHaveBean(PythonPool.class);
            assertThat(context).doesNotHaveBean("pypoolHealthContributor");
        });
    }

    @Test
    void leavesAnApplicationsOwnPoolsAloneAndReportsThem() {
        runner.withBean(PythonPools.class, () -> new PythonPools(Map.of("mine",
                        PythonPool.builder().name("mine").handlerModules("pypool.examples").workers(1).build())))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(PythonPools.class).names()).containsExactly("mine");
                    assertThat(context).doesNotHaveBean(PythonPool.class);
                    HealthIndicator health = context.getBean("pypoolHealthContributor", HealthIndicator.class);
                    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
                    assertThat(health.health().getDetails()).containsEntry("pool", "mine");
                });
    }
}
