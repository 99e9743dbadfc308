package io.pypool.micrometer;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code command} tag of a call. Command names come from code, but a caller that builds them
 * from data would make a new time series per call and exhaust the metrics backend: past the
 * first {@code max} distinct names, every new name is tagged {@value #OTHER}.
 */
final class CommandTags {
    static final String OTHER = "other";

    private final int max;
    private final ConcurrentHashMap<String, String> known = new ConcurrentHashMap<>();
    private final AtomicInteger admitted = new AtomicInteger();

    CommandTags(int max) {
        this.max = max;
    }

    String tagOf(String command) {
        String tag = known.get(command);
        if (tag != null) {
            return tag;
        }
        if (admitted.get() >= max) {
            return OTHER; // not remembered either: the map stays bounded too
        }
        return known.computeIfAbsent(command, c -> admitted.incrementAndGet() <= max ? c : OTHER);
    }
}
