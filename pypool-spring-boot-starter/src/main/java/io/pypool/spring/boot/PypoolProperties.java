package io.pypool.spring.boot;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * The {@code pypool.*} configuration properties. Without {@code pypool.pools.*} they configure
 * one pool, the default one; with them, one pool per name, and the settings here apply to each of
 * them before its own (see {@link PythonPoolProperties}).
 *
 * <pre>
 * pypool.handler-modules=my_app.handlers
 * pypool.python-path=python
 * pypool.workers=4
 * </pre>
 */
@ConfigurationProperties(prefix = PypoolProperties.PREFIX)
public class PypoolProperties extends PythonPoolProperties implements Validator {

    /** The prefix of every property: {@value}. */
    public static final String PREFIX = "pypool";

    /** Whether pools are made from these properties at all. */
    private boolean enabled = true;

    /** Named pools, each with its own settings; when there are any, no default pool is made. */
    private Map<String, PythonPoolProperties> pools = new LinkedHashMap<>();

    /** The named pool that is injected where a single PythonPool is asked for; default none. */
    private String primaryPool;

    /** Whether pools use the application's Jackson 2 ObjectMapper bean, when it has exactly one (or a primary one). */
    private boolean useApplicationObjectMapper = true;

    /** The Actuator health indicator. */
    private final Health health = new Health();

    /** The Micrometer meters. */
    private final Metrics metrics = new Metrics();

    /** Creates the properties with every setting at its default. */
    public PypoolProperties() {}

    /**
     * Whether pools are made from these properties.
     *
     * @return false when {@code pypool.enabled=false}
     */
    public boolean isEnabled() {
        return enabled;
    }

    /**
     * Sets whether pools are made from these properties.
     *
     * @param enabled false to make none
     */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /**
     * The named pools.
     *
     * @return the settings of each named pool by name; empty for the default pool only
     */
    public Map<String, PythonPoolProperties> getPools() {
        return pools;
    }

    /**
     * Sets the named pools.
     *
     * @param pools the settings of each pool by name
     */
    public void setPools(Map<String, PythonPoolProperties> pools) {
        this.pools = pools;
    }

    /**
     * The named pool injected where a single {@code PythonPool} is asked for.
     *
     * @return its name, or null for none
     */
    public String getPrimaryPool() {
        return primaryPool;
    }

    /**
     * Sets the named pool injected where a single {@code PythonPool} is asked for.
     *
     * @param primaryPool the name of one of {@link #getPools()}
     */
    public void setPrimaryPool(String primaryPool) {
        this.primaryPool = primaryPool;
    }

    /**
     * Whether pools use the application's Jackson 2 {@code ObjectMapper} bean.
     *
     * @return true (the default) to use it when the application has exactly one, or a primary one
     */
    public boolean isUseApplicationObjectMapper() {
        return useApplicationObjectMapper;
    }

    /**
     * Sets whether pools use the application's Jackson 2 {@code ObjectMapper} bean.
     *
     * @param useApplicationObjectMapper false to give pools pypool's own default mapper
     */
    public void setUseApplicationObjectMapper(boolean useApplicationObjectMapper) {
        this.useApplicationObjectMapper = useApplicationObjectMapper;
    }

    /**
     * The health indicator's settings.
     *
     * @return the settings under {@code pypool.health}
     */
    public Health getHealth() {
        return health;
    }

    /**
     * The meters' settings.
     *
     * @return the settings under {@code pypool.metrics}
     */
    public Metrics getMetrics() {
        return metrics;
    }

    /**
     * Which bound objects {@link #validate} checks: these properties, each named pool's, and the
     * health and metrics settings. Spring Boot calls it for each object it binds under {@code pypool}.
     *
     * @param type the type of a bound object
     * @return true for the types of the settings above
     */
    @Override
    public boolean supports(Class<?> type) {
        return PythonPoolProperties.class.isAssignableFrom(type) || Health.class == type || Metrics.class == type;
    }

    /**
     * Checks one bound object: each pool setting by the builder's own setter (its reason is the
     * error's message), the health and metrics settings by their rules. Spring Boot reports every
     * error with the property's name, its value and where it was set, and does not start.
     *
     * @param target these properties, a named pool's settings, or the health or metrics settings
     * @param errors where each refused setting is rejected, by field
     */
    @Override
    public void validate(Object target, Errors errors) {
        if (target instanceof PythonPoolProperties pool) {
            pool.validate(errors);
            if (pool == this && primaryPool != null && !pools.containsKey(primaryPool)) {
                errors.rejectValue("primaryPool", "pypool.invalid",
                        "primary-pool = '" + primaryPool + "' is not one of the named pools " + pools.keySet());
            }
            if (pool == this) {
                // Names tag the meters and the logs: two pools under one name would mix theirs.
                Map<String, String> keyByName = new LinkedHashMap<>();
                pools.forEach((key, settings) -> {
                    String name = settings.getName() != null ? settings.getName() : key;
                    String other = keyByName.putIfAbsent(name, key);
                    if (other != null) {
                        errors.rejectValue("pools", "pypool.invalid", "pools '" + other + "' and '" + key
                                + "' are both named '" + name + "': give one of them another name");
                    }
                });
            }
        } else if (target instanceof Health settings) {
            if (settings.getDegradedStatus() == null || settings.getDegradedStatus().isBlank()) {
                errors.rejectValue("degradedStatus", "pypool.invalid",
                        "degraded-status must be a status code such as UP or OUT_OF_SERVICE");
            }
        } else if (target instanceof Metrics settings && settings.getMaxCommands() < 1) {
            errors.rejectValue("maxCommands", "pypool.invalid",
                    "max-commands = '" + settings.getMaxCommands() + "' is invalid: must be at least 1");
        }
    }

    /** Settings of the Actuator health indicator ({@code pypool.health.*}). */
    public static class Health {

        /** The health status reported for a DEGRADED pool (one that serves, but not with every worker); default UP. */
        private String degradedStatus = "UP";

        /** Creates the settings with their defaults. */
        public Health() {}

        /**
         * The status reported for a DEGRADED pool.
         *
         * @return a health status code such as UP (the default) or OUT_OF_SERVICE
         */
        public String getDegradedStatus() {
            return degradedStatus;
        }

        /**
         * Sets the status reported for a DEGRADED pool.
         *
         * @param degradedStatus a health status code, such as UP, OUT_OF_SERVICE or a status of the application's own
         */
        public void setDegradedStatus(String degradedStatus) {
            this.degradedStatus = degradedStatus;
        }
    }

    /** Settings of the Micrometer meters ({@code pypool.metrics.*}). */
    public static class Metrics {

        /** Whether pools publish meters when pypool-micrometer and a MeterRegistry are present. */
        private boolean enabled = true;

        /** How many distinct command names get their own command tag; calls of others are tagged "other". */
        private int maxCommands = 100;

        /** Whether pypool.calls publishes a percentile histogram. */
        private boolean percentileHistogram;

        /** Creates the settings with their defaults. */
        public Metrics() {}

        /**
         * Whether pools publish meters.
         *
         * @return true (the default) when they do, given pypool-micrometer and a registry
         */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets whether pools publish meters.
         *
         * @param enabled false for none
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /**
         * How many distinct command names get their own tag.
         *
         * @return the number; default 100
         */
        public int getMaxCommands() {
            return maxCommands;
        }

        /**
         * Sets how many distinct command names get their own tag.
         *
         * @param maxCommands at least 1
         */
        public void setMaxCommands(int maxCommands) {
            this.maxCommands = maxCommands;
        }

        /**
         * Whether call timings publish a percentile histogram.
         *
         * @return false by default
         */
        public boolean isPercentileHistogram() {
            return percentileHistogram;
        }

        /**
         * Sets whether call timings publish a percentile histogram.
         *
         * @param percentileHistogram true to publish the histogram's buckets
         */
        public void setPercentileHistogram(boolean percentileHistogram) {
            this.percentileHistogram = percentileHistogram;
        }
    }
}
