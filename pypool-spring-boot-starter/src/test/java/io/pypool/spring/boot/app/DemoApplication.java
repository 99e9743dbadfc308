package io.pypool.spring.boot.app;

import io.pypool.PythonPool;
import io.pypool.spring.boot.PythonPoolCustomizer;
import java.util.Map;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** An application as a user writes one: a pool from properties, a Java function for it, a controller calling it. */
@SpringBootApplication
public class DemoApplication {

    /** The Java function pypool.examples' "quote" handler calls back. */
    @Bean
    PythonPoolCustomizer prices() {
        return (pool, builder) -> builder.javaFunction("prices.lookup", args -> switch (args.get("sku").asText()) {
            case "tea" -> 2.5;
            case "milk" -> 1.25;
            default -> throw new IllegalArgumentException("no price for " + args.get("sku"));
        });
    }

    @RestController
    static class CalcController {
        private final PythonPool pool;

        CalcController(PythonPool pool) {
            this.pool = pool;
        }

        @GetMapping("/add")
        double add(@RequestParam("a") double a, @RequestParam("b") double b) throws InterruptedException {
            return pool.call("add", Map.of("a", a, "b", b), Double.class);
        }

        @GetMapping("/wait")
        double waitFor(@RequestParam("ms") double ms) throws InterruptedException {
            return pool.call("wait", Map.of("ms", ms), Double.class);
        }
    }
}
