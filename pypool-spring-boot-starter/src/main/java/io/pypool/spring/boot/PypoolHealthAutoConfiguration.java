package io.pypool.spring.boot;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.annotation.Bean;

/**
 * The {@code pypool} health component, with Spring Boot 4's health support (Actuator) on the
 * classpath: one {@link PypoolHealthIndicator} for a single pool, or a composite with one per pool
 * name when there are several. Off with {@code management.health.pypool.enabled=false}.
 */
@AutoConfiguration(after = PypoolAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(PythonPools.class)
@ConditionalOnEnabledHealthIndicator("pypool")
@EnableConfigurationProperties(PypoolProperties.class)
public final class PypoolHealthAutoConfiguration {

    /** Used by Spring Boot's auto-configuration. */
    public PypoolHealthAutoConfiguration() {}

    /**
     * The {@code pypool} health component.
     *
     * @param pools the pools to report
     * @param properties where {@code pypool.health.degraded-status} is read
     * @return an indicator for one pool, a composite of indicators by pool name for several
     */
    @Bean
    @ConditionalOnMissingBean(name = "pypoolHealthContributor")
    public HealthContributor pypoolHealthContributor(PythonPools pools, PypoolProperties properties) {
        Status degraded = new Status(properties.getHealth().getDegradedStatus());
        if (pools.asMap().size() == 1) {
            return new PypoolHealthIndicator(pools.asMap().values().iterator().next(), degraded);
        }
        return CompositeHealthContributor.fromMap(pools.asMap(), pool -> new PypoolHealthIndicator(pool, degraded));
    }
}
