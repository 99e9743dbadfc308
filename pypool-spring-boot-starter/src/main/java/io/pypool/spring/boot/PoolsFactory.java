package io.pypool.spring.boot;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pypool.PoolStartupException;
import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.beans.BeanWrapperImpl;

/** Makes the pools the properties describe, in order; if one fails, those already started are closed. */
final class PoolsFactory {
    /** A builder option's name in one of its messages, such as {@code minReadyWorkers}. */
    private static final Pattern OPTION = Pattern.compile("\\b[a-z][A-Za-z]+\\b");

    private final PypoolProperties properties;
    private final List<PythonPoolCustomizer> customizers;
    private final ObjectMapper objectMapper;

    PoolsFactory(PypoolProperties properties, List<PythonPoolCustomizer> customizers, ObjectMapper objectMapper) {
        this.properties = properties;
        this.customizers = customizers;
        this.objectMapper = objectMapper;
    }

    /** The keys of the pools the properties describe: the named ones, or {@code default}. */
    static List<String> poolNames(PypoolProperties properties) {
        return properties.getPools().isEmpty() ? List.of(PythonPools.DEFAULT_POOL)
                : List.copyOf(properties.getPools().keySet());
    }

    PythonPools create() {
        Map<String, PythonPool> started = new LinkedHashMap<>();
        try {
            for (String key : poolNames(properties)) {
                started.put(key, start(key, properties.getPools().get(key)));
            }
        } catch (RuntimeException | Error e) {
            try {
                PythonPools.closeAll(started.values());
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        return new PythonPools(started);
    }

    /** Builds and starts one pool; {@code own} is null for the default pool. */
    private PythonPool start(String key, PythonPoolProperties own) {
        PythonPoolBuilder builder = configure(key, own);
        PythonPool pool;
        try {
            pool = builder.build();
        } catch (IllegalArgumentException e) {
            throw new PypoolStartException("The settings of pypool pool '" + key + "' contradict each other: "
                    + withPropertyNames(e.getMessage(), key, own),
                    "Change the properties named above (in application.properties, application.yaml or the"
                            + " environment) so that they fit together.", e);
        } catch (PoolStartupException e) {
            String prefix = own == null ? PypoolProperties.PREFIX : PypoolProperties.PREFIX + ".pools." + key;
            String shared = own == null ? "" : " (and the shared " + PypoolProperties.PREFIX + ".* ones)";
            throw new PypoolStartException("pypool pool '" + key + "' did not start: " + e.getMessage(),
                    "Check " + prefix + ".python-executable, " + prefix + ".handler-modules and " + prefix
                            + ".python-path" + shared + ": the Python error above says what failed.", e);
        }
        try {
            for (PythonPoolCustomizer customizer : customizers) {
                customizer.started(key, pool);
            }
        } catch (RuntimeException | Error e) {
            pool.close();
            throw e;
        }
        return pool;
    }

    /** A builder with the shared settings, then the pool's own, then every customizer's. */
    PythonPoolBuilder configure(String key, PythonPoolProperties own) {
        PythonPoolBuilder builder = PythonPool.builder();
        String name = own != null ? own.getName() : properties.getName();
        builder.name(name != null ? name : key);
        properties.applyTo(builder);
        if (own != null) {
            own.applyTo(builder);
        }
        if (objectMapper != null) {
            builder.objectMapper(objectMapper);
        }
        for (PythonPoolCustomizer customizer : customizers) {
            customizer.customize(key, builder);
        }
        return builder;
    }

    /**
     * The builder's message with each option it names written as the property that set it, such as
     * {@code pypool.pools.fraud.min-ready-workers}, or marked as a default when none did.
     */
    private String withPropertyNames(String message, String key, PythonPoolProperties own) {
        BeanWrapperImpl shared = new BeanWrapperImpl(properties);
        BeanWrapperImpl mine = own == null ? null : new BeanWrapperImpl(own);
        Matcher m = OPTION.matcher(message);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String option = m.group();
            String replacement = option;
            if (shared.isReadableProperty(option) && !"name".equals(option) && !"pools".equals(option)) {
                String kebab = option.replaceAll("([A-Z])", "-$1").toLowerCase(java.util.Locale.ROOT);
                if (mine != null && mine.getPropertyValue(option) != null) {
                    replacement = PypoolProperties.PREFIX + ".pools." + key + "." + kebab;
                } else if (shared.getPropertyValue(option) != null) {
                    replacement = PypoolProperties.PREFIX + "." + kebab;
                } else {
                    replacement = "default " + option;
                }
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }
}
