package io.pypool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pypool.spring.boot.app.DemoApplication;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.io.support.SpringFactoriesLoader;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;

/** A bad setting stops the application's start, with the property's name and the builder's reason. */
@ExtendWith(OutputCaptureExtension.class)
class InvalidPropertiesTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PypoolAutoConfiguration.class))
            .withPropertyValues("pypool.handler-modules=pypool.examples");

    @Test
    void namesAPropertyTheBuildersSetterRefuses() {
        assertStartFailsWith(List.of("pypool.workers=0"),
                "pypool.workers: workers = '0' is invalid: must be between 1 and 1024");
        assertStartFailsWith(List.of("pypool.call-timeout=0s"),
                "pypool.callTimeout: callTimeout = 'PT0S' is invalid: must be positive");
        assertStartFailsWith(List.of("pypool.handler-modules=not a module"),
                "pypool.handlerModules: handlerModules = 'not a module' is invalid: not a Python module name");
        assertStartFailsWith(List.of("pypool.max-frame-bytes=10B"),
                "pypool.maxFrameBytes: maxFrameBytes = '10' is invalid: must be between 1024");
        assertStartFailsWith(List.of("pypool.pools.fraud.caller-spin=5ms", "pypool.pools.fraud.workers=2000"),
                "pypool.pools.fraud.callerSpin: callerSpin = 'PT0.005S' is invalid: must be between 0 and 1 ms",
                "pypool.pools.fraud.workers: workers = '2000' is invalid");
        assertStartFailsWith(List.of("pypool.health.degraded-status= "),
                "pypool.health.degradedStatus: degraded-status must be a status code");
        assertStartFailsWith(List.of("pypool.metrics.max-commands=0"),
                "pypool.metrics.maxCommands: max-commands = '0' is invalid");
    }

    @Test
    void namesAPropertyWhoseValueIsNotOfItsType() {
        assertStartFailsWith(List.of("pypool.startup-timeout=soon"), "pypool.startup-timeout", "soon");
        assertStartFailsWith(List.of("pypool.saturation-policy=drop"), "pypool.saturation-policy", "drop");
    }

    @Test
    void namesThePropertiesOfSettingsThatContradictEachOther() {
        assertStartFailsWith(List.of("pypool.workers=1", "pypool.min-ready-workers=2"),
                "pypool pool 'default'", "pypool.min-ready-workers (2) must not exceed pypool.workers (1)");
        assertStartFailsWith(List.of("pypool.pools.fraud.handler-threads=8", "pypool.max-in-flight-per-worker=4"),
                "pypool pool 'fraud'",
                "pypool.pools.fraud.handler-threads (8) must not exceed pypool.max-in-flight-per-worker (4)");
        assertStartFailsWith(List.of("pypool.pools.a.workers=1", "pypool.primary-pool=b"),
                "pypool.primaryPool: primary-pool = 'b' is not one of the named pools [a]");
        assertStartFailsWith(List.of("pypool.pools.a.workers=1", "pypool.pools.b.name=a"),
                "pypool.pools: pools 'a' and 'b' are both named 'a'");
    }

    @Test
    void reportsABindingFailureAsSpringBootDoesWithItsOrigin(CapturedOutput output) {
        SpringApplicationBuilder app = new SpringApplicationBuilder(DemoApplication.class)
                .web(WebApplicationType.NONE).properties("pypool.workers=0");
        assertThatThrownBy(app::run).isNotNull();
        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("Property: pypool.workers")
                .contains("Value: \"0\"")
                .contains("Origin: \"pypool.workers\"")
                .contains("Reason: workers = '0' is invalid: must be between 1 and 1024");
    }

    @Test
    void reportsContradictingSettingsWithWhatToChange(CapturedOutput output) {
        SpringApplicationBuilder app = new SpringApplicationBuilder(DemoApplication.class)
                .web(WebApplicationType.NONE)
                .properties("pypool.handler-modules=pypool.examples", "pypool.workers=1", "pypool.min-ready-workers=3");
        assertThatThrownBy(app::run).isNotNull();
        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("pypool.min-ready-workers (3) must not exceed pypool.workers (1)")
                .contains("Change the properties named above");
    }

    @Test
    void reportsAPoolThatDidNotStartWithThePropertiesToCheck(CapturedOutput output) {
        SpringApplicationBuilder app = new SpringApplicationBuilder(DemoApplication.class)
                .web(WebApplicationType.NONE)
                .properties("pypool.handler-modules=no_such_module_here", "pypool.workers=1");
        assertThatThrownBy(app::run).isNotNull();
        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("pypool pool 'default' did not start")
                .contains("no_such_module_here")
                .contains("Check pypool.python-executable, pypool.handler-modules and pypool.python-path");
    }

    @Test
    void registersItsFailureAnalyzer() {
        // Others' analyzers want constructor arguments that only a running application has: skipped.
        List<FailureAnalyzer> analyzers = SpringFactoriesLoader.forDefaultResourceLocation()
                .load(FailureAnalyzer.class, null, (type, implementation, failure) -> { });
        assertThat(analyzers).hasAtLeastOneElementOfType(PypoolFailureAnalyzer.class);
    }

    private void assertStartFailsWith(List<String> properties, String... fragments) {
        runner.withPropertyValues(properties.toArray(String[]::new)).run(context -> {
            assertThat(context).hasFailed();
            assertThat(messages(context.getStartupFailure())).contains(fragments);
        });
    }

    /** Every message in the cause chain, one per line, and each validation error as "property: reason". */
    private static String messages(Throwable failure) {
        List<String> lines = new ArrayList<>();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            lines.add(t.getClass().getName() + ": " + t.getMessage());
            if (t instanceof BindValidationException invalid) {
                for (ObjectError error : invalid.getValidationErrors()) {
                    FieldError field = (FieldError) error;
                    lines.add(field.getObjectName() + "." + field.getField() + ": " + field.getDefaultMessage());
                }
            }
        }
        return String.join("\n", lines);
    }
}
