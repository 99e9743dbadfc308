package io.pypool.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects what each section measured: prints its table as soon as the section ends (a long run
 * shows progress), and at the end writes everything as JSON, and as markdown when asked.
 * The JSON keeps the raw figures (records, serialized as they are); the tables are for reading.
 */
final class Report {
    private final PrintStream console;
    private final Map<String, Object> json = new LinkedHashMap<>();
    private final List<Table> tables = new ArrayList<>();

    Report(PrintStream console) {
        this.console = console;
    }

    void put(String key, Object value) {
        json.put(key, value);
    }

    /** A section's figures: kept for the JSON under {@code key}, and printed now. */
    void section(String key, Object figures, Table table) {
        json.put(key, figures);
        tables.add(table);
        console.println(table.text());
    }

    void note(String line) {
        console.println(line);
    }

    void writeJson(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), json);
    }

    String markdown() {
        StringBuilder out = new StringBuilder();
        for (Table table : tables) {
            out.append(table.markdown()).append('\n');
        }
        return out.toString();
    }
}
