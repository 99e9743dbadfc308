package io.pypool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.pypool.PythonPool;
import io.pypool.PythonPoolBuilder;
import io.pypool.SaturationPolicy;
import java.beans.PropertyDescriptor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.BeanWrapperImpl;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** Every setting of PythonPoolBuilder that a value can express is a property, and reaches the builder. */
class PropertiesCoverTheBuilderTest {

    /** Settings that take objects rather than values: a {@link PythonPoolCustomizer} gives them. */
    private static final Set<String> NOT_PROPERTIES = Set.of(
            "clock", "callbackExecutor", "objectMapper", "listener", "tracer", "javaFunction", "javaFunctionExecutor",
            "backend");

    @TempDir
    static Path folder;

    @Test
    void everyScalarSettingOfTheBuilderIsAProperty() {
        Set<String> settings = builderSettings();
        assertThat(settings).as("settings the customizer is for, still on the builder").containsAll(NOT_PROPERTIES);
        Set<String> properties = properties();
        assertThat(minus(minus(settings, NOT_PROPERTIES), properties))
                .as("settings of PythonPoolBuilder without a property in PythonPoolProperties").isEmpty();
        assertThat(minus(properties, settings))
                .as("properties of PythonPoolProperties that are no setting of PythonPoolBuilder").isEmpty();
    }

    @Test
    void everyPropertyReachesTheBuilderAsItsSetterWouldGetIt() {
        Map<String, String> values = everyProperty();
        Set<String> given = values.keySet().stream()
                .map(k -> k.substring("pypool.".length()).replaceAll("\\..*", ""))
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> all = properties().stream().map(PropertiesCoverTheBuilderTest::kebab)
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(given).as("a value below for every property").isEqualTo(all);

        PythonPoolBuilder byHand = PythonPool.builder()
                .name("shop").workers(3).minReadyWorkers(1).pythonExecutable("python3")
                .handlerModules("shop.handlers", "shop.more").pythonPath(Path.of("python"), Path.of("lib"))
                .environment("SHOP_MODE", "test").workingDirectory(folder)
                .startupTimeout(Duration.ofSeconds(12)).callTimeout(Duration.ofSeconds(3))
                .closeGracePeriod(Duration.ofSeconds(4)).maxQueuedCalls(50).saturationPolicy(SaturationPolicy.WAIT)
                .maxInFlightPerWorker(8).maxInFlightPerSession(2).maxQueuedCallsPerSession(7).handlerThreads(4)
                .callerSpin(Duration.ofNanos(20_000)).sessionIdleTtl(Duration.ofMinutes(5)).maxSessions(99)
                .maxFrameBytes(2 * 1024 * 1024).healthCheckInterval(Duration.ofMillis(1500))
                .maxConcurrentStarts(2).maxConsecutiveStartFailures(9).slotRetryAfter(Duration.ofSeconds(45))
                .recycleAfterCalls(10_000).recycleAfterAge(Duration.ofHours(6))
                .recycleAboveRssBytes(1024L * 1024 * 1024).reapOrphans(false).forkServer(false).jmx(true)
                .workerOutputLevel(org.slf4j.event.Level.DEBUG);

        assertThat(configured(values, PythonPools.DEFAULT_POOL)).usingRecursiveComparison().isEqualTo(byHand);
    }

    @Test
    void eachPropertyAloneChangesTheBuilder() {
        PythonPoolBuilder untouched = PythonPool.builder().name(PythonPools.DEFAULT_POOL);
        everyProperty().forEach((key, value) -> {
            if (!key.equals("pypool.name")) {
                assertThat(configured(Map.of(key, value), PythonPools.DEFAULT_POOL)).as(key)
                        .usingRecursiveComparison().isNotEqualTo(untouched);
            }
        });
    }

    @Test
    void aNamedPoolTakesTheSharedSettingsThenItsOwn() {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("pypool.name", "shared-name");
        values.put("pypool.workers", "3");
        values.put("pypool.call-timeout", "9s");
        values.put("pypool.handler-modules", "shared.handlers");
        values.put("pypool.python-path", "python");
        values.put("pypool.environment.A", "1");
        values.put("pypool.environment.B", "1");
        values.put("pypool.pools.fraud.workers", "2");
        values.put("pypool.pools.fraud.handler-modules", "fraud.handlers");
        values.put("pypool.pools.fraud.python-path", "fraud");
        values.put("pypool.pools.fraud.environment.B", "2");

        PythonPoolBuilder byHand = PythonPool.builder()
                .name("fraud").workers(2).callTimeout(Duration.ofSeconds(9))
                .handlerModules("shared.handlers", "fraud.handlers").pythonPath(Path.of("python"), Path.of("fraud"))
                .environment("A", "1").environment("B", "2");

        assertThat(configured(values, "fraud")).usingRecursiveComparison().isEqualTo(byHand);
    }

    /** A value for every property, none of them the builder's default. */
    private static Map<String, String> everyProperty() {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("pypool.name", "shop");
        values.put("pypool.workers", "3");
        values.put("pypool.min-ready-workers", "1");
        values.put("pypool.python-executable", "python3");
        values.put("pypool.handler-modules", "shop.handlers,shop.more");
        values.put("pypool.python-path", "python,lib");
        values.put("pypool.environment.SHOP_MODE", "test");
        values.put("pypool.working-directory", folder.toString());
        values.put("pypool.startup-timeout", "12s");
        values.put("pypool.call-timeout", "3s");
        values.put("pypool.close-grace-period", "4s");
        values.put("pypool.max-queued-calls", "50");
        values.put("pypool.saturation-policy", "wait");
        values.put("pypool.max-in-flight-per-worker", "8");
        values.put("pypool.max-in-flight-per-session", "2");
        values.put("pypool.max-queued-calls-per-session", "7");
        values.put("pypool.handler-threads", "4");
        values.put("pypool.caller-spin", "20us");
        values.put("pypool.session-idle-ttl", "5m");
        values.put("pypool.max-sessions", "99");
        values.put("pypool.max-frame-bytes", "2MB");
        values.put("pypool.health-check-interval", "1500ms");
        values.put("pypool.max-concurrent-starts", "2");
        values.put("pypool.max-consecutive-start-failures", "9");
        values.put("pypool.slot-retry-after", "45s");
        values.put("pypool.recycle-after-calls", "10000");
        values.put("pypool.recycle-after-age", "6h");
        values.put("pypool.recycle-above-rss-bytes", "1GB");
        values.put("pypool.reap-orphans", "false");
        values.put("pypool.fork-server", "false");
        values.put("pypool.jmx", "true");
        values.put("pypool.worker-output-level", "debug");
        return values;
    }

    /** The builder of pool {@code key} as the starter configures it from {@code values}, before it builds. */
    private static PythonPoolBuilder configured(Map<String, String> values, String key) {
        PypoolProperties properties = new Binder(new MapConfigurationPropertySource(values))
                .bind(PypoolProperties.PREFIX, PypoolProperties.class).orElseGet(PypoolProperties::new);
        return new PoolsFactory(properties, List.of(), null).configure(key, properties.getPools().get(key));
    }

    /** The names of the builder's public setters: its public methods that return the builder. */
    private static Set<String> builderSettings() {
        return Arrays.stream(PythonPoolBuilder.class.getMethods())
                .filter(m -> !Modifier.isStatic(m.getModifiers()) && m.getReturnType() == PythonPoolBuilder.class)
                .map(Method::getName)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** The writable properties of one pool's settings. */
    private static Set<String> properties() {
        return Arrays.stream(new BeanWrapperImpl(PythonPoolProperties.class).getPropertyDescriptors())
                .filter(d -> d.getWriteMethod() != null)
                .map(PropertyDescriptor::getName)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> minus(Set<String> a, Set<String> b) {
        Set<String> left = new TreeSet<>(a);
        left.removeAll(b);
        return left;
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([A-Z])", "-$1").toLowerCase(java.util.Locale.ROOT);
    }
}
