package io.pypool.spring.boot;

import io.pypool.PythonPool;
import java.util.List;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.support.AutowireCandidateQualifier;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;

/**
 * Makes each pool of the {@link PythonPools} bean a {@link PythonPool} bean of its own: the default
 * pool as {@code pythonPool}, a named one as {@code <name>PythonPool} with the qualifier
 * {@code <name>}, and {@code pypool.primary-pool} as the primary one.
 */
final class PoolBeansRegistrar implements BeanDefinitionRegistryPostProcessor {
    static final String POOLS_BEAN = "pythonPools";

    private final Environment environment;

    PoolBeansRegistrar(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
        PypoolProperties properties = Binder.get(environment).bind(PypoolProperties.PREFIX, PypoolProperties.class)
                .orElseGet(PypoolProperties::new);
        List<String> names = PoolsFactory.poolNames(properties);
        String primary = properties.getPrimaryPool();
        for (String name : names) {
            RootBeanDefinition pool = new RootBeanDefinition(PythonPool.class);
            pool.setFactoryBeanName(POOLS_BEAN);
            pool.setFactoryMethodName("get");
            pool.getConstructorArgumentValues().addIndexedArgumentValue(0, name);
            pool.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
            pool.setPrimary(name.equals(primary));   // a wrong name fails the properties' validation
            // The pools bean closes them, all at once and after the web server (PoolsLifecycle).
            pool.setDestroyMethodName("");
            registry.registerBeanDefinition(beanName(name), pool);
        }
    }

    static String beanName(String poolName) {
        return PythonPools.DEFAULT_POOL.equals(poolName) ? "pythonPool" : poolName + "PythonPool";
    }
}
