package io.pypool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.PythonException;
import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Several pools by name: shared settings, each its own, injected by qualifier, one health component each. */
class NamedPoolsTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PypoolAutoConfiguration.class,
                    PypoolHealthAutoConfiguration.class, PypoolMetricsAutoConfiguration.class))
            .withPropertyValues(
                    "pypool.handler-modules=pypool.examples",
                    "pypool.workers=1",
                    "pypool.call-timeout=7s",
                    "pypool.environment.SHARED=yes",
                    "pypool.pools.fast.workers=2",
                    "pypool.pools.slow.name=slow-pool",
                    "pypool.pools.slow.call-timeout=2s",
                    "pypool.primary-pool=fast");

    @Test
    void makesOnePoolPerNameWithTheSharedSettingsUnderItsOwn() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            PythonPools pools = context.getBean(PythonPools.class);
            assertThat(pools.names()).containsExactly("fast", "slow");
            PythonPool fast = pools.get("fast");
            PythonPool slow = pools.get("slow");
            assertThat(fast.stats().workers()).hasSize(2);          // its own
            assertThat(slow.stats().workers()).hasSize(1);          // the shared one
            assertThat(fast.name()).isEqualTo("fast");              // its key
            assertThat(slow.name()).isEqualTo("slow-pool");         // its own name
            assertThat(fast.call("add", Map.of("a", 1, "b", 2), Integer.class)).isEqualTo(3);
            assertThat(slow.call("add", Map.of("a", 3, "b", 4), Integer.class)).isEqualTo(7);
            assertThat(pools.find("nope")).isEmpty();
            assertThatThrownBy(() -> pools.get("nope")).isInstanceOf(NoSuchElementException.class)
                    .hasMessageContaining("[fast, slow]");
            assertThat(context).doesNotHaveBean("pythonPool");
        });
    }

    @Test
    void injectsEachPoolByQualifierAndThePrimaryOneByType() {
        runner.withUserConfiguration(Consumers.class).run(context -> {
            PythonPools pools = context.getBean(PythonPools.class);
            Consumers consumers = context.getBean(Consumers.class);
            assertThat(consumers.any).isSameAs(pools.get("fast"));
            assertThat(consumers.slow).isSameAs(pools.get("slow"));
            assertThat(context.getBean("slowPythonPool")).isSameAs(pools.get("slow"));
            assertThat(context.getBeansOfType(PythonPool.class)).containsOnlyKeys("fastPythonPool", "slowPythonPool");
        });
    }

    @Test
    void reportsEachPoolAsAComponentOfThePypoolHealth() {
        runner.run(context -> {
            CompositeHealthContributor health = context.getBean("pypoolHealthContributor",
                    CompositeHealthContributor.class);
            for (String name : new String[] {"fast", "slow"}) {
                HealthIndicator indicator = (HealthIndicator) health.getContributor(name);
                assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
                assertThat(indicator.health().getDetails()).containsEntry("status", "HEALTHY");
            }
        });
    }

    @Test
    void bindsEveryPoolToTheRegistry() {
        runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.get("pypool.workers").tag("pool", "fast").tag("state", "READY").gauge().value())
                    .isEqualTo(2.0);
            assertThat(registry.get("pypool.workers").tag("pool", "slow-pool").tag("state", "READY").gauge().value())
                    .isEqualTo(1.0);
        });
    }

    @Test
    void callsEveryCustomizerForEveryPoolAndAForPoolOneForItsPoolOnly() {
        List<String> seen = new CopyOnWriteArrayList<>();
        runner.withBean("everyPool", PythonPoolCustomizer.class, () -> new PythonPoolCustomizer() {
                    @Override
                    public void customize(String poolName, PythonPoolBuilder builder) {
                        seen.add("customize " + poolName);
                    }

                    @Override
                    public void started(String poolName, PythonPool pool) {
                        seen.add("started " + poolName + " with " + pool.stats().workers().size());
                    }
                })
                .withBean("slowOnly", PythonPoolCustomizer.class,
                        () -> PythonPoolCustomizer.forPool("slow", b -> b.javaFunction("prices.lookup", args -> 2.0)))
                .run(context -> {
                    assertThat(seen).containsExactly("customize fast", "started fast with 2",
                            "customize slow", "started slow with 1");
                    PythonPools pools = context.getBean(PythonPools.class);
                    JsonNode quote = pools.get("slow").call("quote", Map.of("sku", "tea", "qty", 3));
                    assertThat(quote.get("total").asDouble()).isEqualTo(6.0);
                    assertThatThrownBy(() -> pools.get("fast").call("quote", Map.of("sku", "tea")))
                            .isInstanceOf(PythonException.class).hasMessageContaining("prices.lookup");
                });
    }

    @Configuration(proxyBeanMethods = false)
    static class Consumers {
        PythonPool any;
        PythonPool slow;

        @Bean
        Object poolUser(PythonPool any, @Qualifier("slow") PythonPool slow) {
            this.any = any;
            this.slow = slow;
            return new Object();
        }
    }
}
