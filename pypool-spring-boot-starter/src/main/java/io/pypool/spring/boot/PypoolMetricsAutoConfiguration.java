package io.pypool.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import io.pypool.micrometer.PypoolMetrics;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Micrometer meters for every pool the starter makes, with pypool-micrometer on the classpath and
 * a {@link MeterRegistry} bean in the context (Spring Boot's, with Actuator): each pool's builder
 * gets a {@link PypoolMetrics} listener, and the started pool is bound to the registry. Off with
 * {@code pypool.metrics.enabled=false}.
 */
@AutoConfiguration
@ConditionalOnClass({PypoolMetrics.class, MeterRegistry.class, PythonPool.class})
@ConditionalOnProperty(prefix = PypoolProperties.PREFIX + ".metrics", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(PypoolProperties.class)
public final class PypoolMetricsAutoConfiguration {

    /** Used by Spring Boot's auto-configuration. */
    public PypoolMetricsAutoConfiguration() {}

    /**
     * The customizer that adds meters to each pool.
     *
     * @param registries the application's registry: the only one, or the primary one (Spring Boot's composite)
     * @param properties where {@code pypool.metrics.*} is read
     * @return the customizer; it does nothing when there is no registry
     */
    @Bean
    PythonPoolCustomizer pypoolMetricsCustomizer(ObjectProvider<MeterRegistry> registries,
                                                 PypoolProperties properties) {
        return new MetricsCustomizer(registries, properties.getMetrics());
    }

    /** Adds a listener before each pool starts, and binds its meters once it has. */
    static final class MetricsCustomizer implements PythonPoolCustomizer {
        private final ObjectProvider<MeterRegistry> registries;
        private final PypoolProperties.Metrics settings;
        private final Map<String, PypoolMetrics> metrics = new ConcurrentHashMap<>();

        MetricsCustomizer(ObjectProvider<MeterRegistry> registries, PypoolProperties.Metrics settings) {
            this.registries = registries;
            this.settings = settings;
        }

        @Override
        public void customize(String poolName, PythonPoolBuilder builder) {
            if (registries.getIfUnique() == null) {
                return;
            }
            PypoolMetrics poolMetrics = new PypoolMetrics()
                    .maxCommands(settings.getMaxCommands())
                    .percentileHistogram(settings.isPercentileHistogram());
            builder.listener(poolMetrics.listener());
            metrics.put(poolName, poolMetrics);
        }

        @Override
        public void started(String poolName, PythonPool pool) {
            PypoolMetrics poolMetrics = metrics.remove(poolName);
            MeterRegistry registry = registries.getIfUnique();
            if (poolMetrics != null && registry != null) {
                poolMetrics.monitor(pool).bindTo(registry);
            }
        }
    }
}
