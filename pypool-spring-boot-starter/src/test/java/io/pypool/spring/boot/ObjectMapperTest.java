package io.pypool.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** Pools map arguments and results with the application's Jackson 2 ObjectMapper bean, when it has one. */
class ObjectMapperTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PypoolAutoConfiguration.class))
            .withPropertyValues("pypool.handler-modules=pypool.examples", "pypool.workers=1");

    record Customer(String firstName) {}

    @Test
    void usesTheApplicationsMapper() {
        runner.withBean(ObjectMapper.class, ObjectMapperTest::snakeCase)
                .run(context -> assertThat(echoed(context.getBean(PythonPools.class))).isEqualTo("{\"first_name\":\"Ada\"}"));
    }

    @Test
    void keepsPypoolsOwnMapperWhenToldTo() {
        runner.withBean(ObjectMapper.class, ObjectMapperTest::snakeCase)
                .withPropertyValues("pypool.use-application-object-mapper=false")
                .run(context -> assertThat(echoed(context.getBean(PythonPools.class))).isEqualTo("{\"firstName\":\"Ada\"}"));
    }

    @Test
    void keepsPypoolsOwnMapperWhenTheApplicationHasNoneOrSeveral() {
        runner.run(context -> assertThat(echoed(context.getBean(PythonPools.class))).isEqualTo("{\"firstName\":\"Ada\"}"));
        runner.withBean("one", ObjectMapper.class, ObjectMapperTest::snakeCase)
                .withBean("two", ObjectMapper.class, ObjectMapperTest::snakeCase)
                .run(context -> assertThat(echoed(context.getBean(PythonPools.class))).isEqualTo("{\"firstName\":\"Ada\"}"));
    }

    private static ObjectMapper snakeCase() {
        return new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    }

    private static String echoed(PythonPools pools) throws InterruptedException {
        JsonNode echoed = pools.get("default").call("echo", java.util.Map.of("value", new Customer("Ada")));
        return echoed.toString();
    }
}
