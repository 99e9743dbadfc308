package com.example.quotes;

import io.pypool.PythonPool;
import io.pypool.spring.boot.PythonPoolCustomizer;
import java.util.List;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@SpringBootApplication
public class ShopApplication {

    public static void main(String[] args) {
        SpringApplication.run(ShopApplication.class, args);
    }

    /** What properties cannot say: a Java function the Python handlers call back. */
    @Bean
    PythonPoolCustomizer catalog() {
        Map<String, Double> prices = Map.of("tea", 2.5, "milk", 1.2);
        return (pool, builder) -> builder.javaFunction("catalog.price",
                args -> prices.get(args.get("sku").asText()));
    }

    @RestController
    static class PriceController {
        private final PythonPool pool;

        PriceController(PythonPool pool) {
            this.pool = pool;
        }

        @GetMapping("/total")
        Map<String, Object> total(@RequestParam List<Double> prices, @RequestParam(defaultValue = "0") int discount)
                throws InterruptedException {
            double total = pool.call("price.total", Map.of("prices", prices, "discount_percent", discount), Double.class);
            return Map.of("total", total);
        }

        @GetMapping("/quote")
        Object quote(@RequestParam String sku, @RequestParam int qty) throws InterruptedException {
            return pool.call("price.quote", Map.of("sku", sku, "qty", qty), Map.class);
        }
    }
}
