package io.pypool.spring.boot;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

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
public class PypoolProperties extends PythonPoolProperties {

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
         * @throws IllegalArgumentException if it is blank
         */
        public void setDegradedStatus(String degradedStatus) {
            if (degradedStatus == null || degradedStatus.isBlank()) {
                throw new IllegalArgumentException("degraded-status must be a status code such as UP or OUT_OF_SERVICE");
            }
            this.degradedStatus = degradedStatus.trim();
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
         * @throws IllegalArgumentException if below 1
         */
        public void setMaxCommands(int maxCommands) {
            if (maxCommands < 1) {
                throw new IllegalArgumentException("max-commands = '" + maxCommands + "' is invalid: must be at least 1");
            }
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
