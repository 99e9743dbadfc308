package io.pypool.spring.boot;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pypool.PythonPool;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Makes the pools described by the {@code pypool.*} properties ({@link PypoolProperties}): a
 * {@link PythonPools} bean holding them all, a {@link PythonPool} bean for each, and their closing
 * when the context stops, after the web server ({@link PythonPools#SHUTDOWN_PHASE}).
 *
 * <p>It makes none when {@code pypool.enabled=false}, or when the application defines a
 * {@code PythonPool} or {@code PythonPools} bean of its own.
 */
@AutoConfiguration
@ConditionalOnClass(PythonPool.class)
@ConditionalOnProperty(prefix = PypoolProperties.PREFIX, name = "enabled", matchIfMissing = true)
@ConditionalOnMissingBean({PythonPool.class, PythonPools.class})
@EnableConfigurationProperties(PypoolProperties.class)
public final class PypoolAutoConfiguration {

    /** Used by Spring Boot's auto-configuration. */
    public PypoolAutoConfiguration() {}

    /**
     * Starts every pool the properties describe, each configured by the customizers.
     *
     * @param properties the {@code pypool.*} properties
     * @param customizers the application's customizers, called in order for each pool
     * @param objectMappers the application's Jackson 2 mapper, used unless
     *        {@code pypool.use-application-object-mapper=false}
     * @return the started pools by name
     */
    @Bean(name = PoolBeansRegistrar.POOLS_BEAN)
    public PythonPools pythonPools(PypoolProperties properties, ObjectProvider<PythonPoolCustomizer> customizers,
                                   ObjectProvider<ObjectMapper> objectMappers) {
        ObjectMapper mapper = properties.isUseApplicationObjectMapper() ? objectMappers.getIfUnique() : null;
        return new PoolsFactory(properties, customizers.orderedStream().toList(), mapper).create();
    }

    /**
     * Closes the pools as the context stops, after the web server has finished its requests.
     *
     * @param pools the pools
     * @return the lifecycle bean
     */
    @Bean
    PoolsLifecycle pythonPoolsLifecycle(PythonPools pools) {
        return new PoolsLifecycle(pools);
    }

    /**
     * Registers a {@code PythonPool} bean for each pool.
     *
     * @param environment the environment the properties are read from
     * @return the registrar
     */
    @Bean
    static PoolBeansRegistrar pythonPoolBeansRegistrar(Environment environment) {
        return new PoolBeansRegistrar(environment);
    }
}
