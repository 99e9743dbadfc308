package com.example.shop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.PythonPool;
import io.pypool.PythonSession;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** pypool as a user's build gets it through the BOM: a pool on python3, handlers of this project. */
class PypoolFromTheBomTest {

    private static PythonPool pool;

    @BeforeAll
    static void startPool() {
        pool = PythonPool.builder()
                .handlerModules("shop_handlers")
                .pythonPath(Path.of("src/test/python"))
                .workers(2)
                .build();
    }

    @AfterAll
    static void closePool() {
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void callsAHandler() throws InterruptedException {
        double total = pool.call("price.total", Map.of("prices", List.of(10.0, 5.5), "discount_percent", 10),
                Double.class);
        assertEquals(13.95, total, 1e-9);
    }

    @Test
    void keepsStateInASession() throws InterruptedException {
        try (PythonSession cart = pool.session("customer-7")) {
            cart.call("cart.add", Map.of("item", "tea"));
            JsonNode cartNow = cart.call("cart.add", Map.of("item", "milk"));
            assertEquals("[\"tea\",\"milk\"]", cartNow.get("items").toString());
        }
    }

    @Test
    void streamsAGenerator() {
        try (Stream<String> lines = pool.stream("receipt.lines", Map.of("items", List.of("tea", "milk", "bread")),
                String.class)) {
            assertEquals(List.of("1. tea", "2. milk", "3. bread"), lines.toList());
        }
    }
}
