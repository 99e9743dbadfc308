package io.pypool.spring.boot;

import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Configures what properties cannot express: Java functions, executors, listeners, an
 * ObjectMapper, a clock. Every bean of this type is called for every pool the starter makes,
 * in {@link org.springframework.core.annotation.Order @Order} order, after the pool's properties
 * were given to its builder (so a customizer has the last word) and before the pool starts.
 *
 * <pre>{@code
 * @Bean
 * PythonPoolCustomizer prices(PriceService service) {
 *     return (pool, builder) -> builder.javaFunction("prices.lookup", args -> service.price(args.get("sku").asText()));
 * }
 * }</pre>
 */
@FunctionalInterface
public interface PythonPoolCustomizer {

    /**
     * Configures a pool's builder before the pool starts.
     *
     * @param poolName the pool's key: {@code default} for the default pool, else its name under
     *        {@code pypool.pools}
     * @param builder the builder, with the pool's properties already applied
     */
    void customize(String poolName, PythonPoolBuilder builder);

    /**
     * Told that a pool has started (its {@code min-ready-workers} are ready), before it is handed to
     * any other bean: the place for {@link PythonPool#configureWorkers} or binding meters. Does
     * nothing unless overridden. What it throws fails the application's start, and the pools close.
     *
     * @param poolName the pool's key, as given to {@link #customize}
     * @param pool the running pool
     */
    default void started(String poolName, PythonPool pool) {}

    /**
     * A customizer for one pool only.
     *
     * @param poolName the pool's key: {@code default} or a name under {@code pypool.pools}
     * @param customizer what to do with that pool's builder
     * @return a customizer that leaves the other pools alone
     */
    static PythonPoolCustomizer forPool(String poolName, Consumer<PythonPoolBuilder> customizer) {
        Objects.requireNonNull(poolName, "poolName");
        Objects.requireNonNull(customizer, "customizer");
        return (name, builder) -> {
            if (name.equals(poolName)) {
                customizer.accept(builder);
            }
        };
    }
}
