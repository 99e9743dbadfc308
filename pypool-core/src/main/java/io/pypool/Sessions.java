package io.pypool;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The pool's sessions: opening them, closing them (their close notice runs after their calls and
 * is never dropped or counted against the pool's queue), and ending idle ones in the background,
 * by idle TTL and, above {@code maxSessions}, least recently used first.
 */
final class Sessions {
    private final PoolEngine pool;
    private final Map<String, SessionEntry> byId = new ConcurrentHashMap<>();
    /** Set while an eviction pass is scheduled, so a burst of new sessions asks for one pass, not one each. */
    private final AtomicBoolean evictionScheduled = new AtomicBoolean();

    Sessions(PoolEngine pool) {
        this.pool = pool;
    }

    SessionEntry open(String id, SessionOptions options) {
        if (id == null || id.isEmpty() || id.length() > 256) {
            throw new IllegalArgumentException("session id must have 1 to 256 characters, got '" + id + "'");
        }
        PoolSettings settings = pool.settings();
        int inFlight = options.maxInFlightOr(settings.maxInFlightPerSession());
        int queued = options.maxQueuedCallsOr(settings.maxQueuedCallsPerSession());
        SessionEntry entry = byId.compute(id, (k, existing) -> existing == null || existing.endedBecause() != null
                ? new SessionEntry(k, pool, inFlight, queued, pool.clock().nanoTime()) : existing);
        if (byId.size() > settings.maxSessions() && evictionScheduled.compareAndSet(false, true)) {
            // Over quota: evict in the background now rather than at the next periodic sweep.
            pool.housekeeping().execute(() -> {
                evictionScheduled.set(false);
                expire();
            });
        }
        return entry;
    }

    void close(SessionEntry s, String because) {
        if (s.end(because)) {
            byId.remove(s.id, s);
        }
    }

    /** A lost session leaves the registry; {@code session(id)} then gives a fresh one. */
    void forget(SessionEntry s) {
        byId.remove(s.id, s);
    }

    void redispatch(Call call, String why) {
        call.session.redispatch(call, why);
    }

    /** Whether any session has a call made and not finished (waiting in its strand included). */
    boolean anyActive() {
        for (SessionEntry s : byId.values()) {
            if (s.active.get() > 0) {
                return true;
            }
        }
        return false;
    }

    int size() {
        return byId.size();
    }

    /** Sessions on this worker whose state would be lost with it: they hold a worker due for recycling. */
    long strandedOn(Worker w) {
        return byId.values().stream()
                .filter(s -> s.worker() == w && s.touchedWorker() && !s.restorable()).count();
    }

    /** Idle TTL, then LRU above maxSessions; runs on the housekeeping thread. */
    void expire() {
        PoolSettings settings = pool.settings();
        long now = pool.clock().nanoTime();
        long ttl = settings.sessionIdleTtl().toNanos();
        List<SessionEntry> idle = new ArrayList<>();
        for (SessionEntry s : byId.values()) {
            if (s.active.get() == 0) {
                if (now - s.lastUsedNanos > ttl) {
                    close(s, "it expired after being idle for " + settings.sessionIdleTtl().toMillis() + " ms");
                } else {
                    idle.add(s);
                }
            }
        }
        int excess = byId.size() - settings.maxSessions();
        if (excess > 0) {
            idle.sort(Comparator.comparingLong(s -> s.lastUsedNanos));
            for (SessionEntry s : idle.subList(0, Math.min(excess, idle.size()))) {
                close(s, "it was the least recently used when the pool passed maxSessions (" + settings.maxSessions() + ")");
            }
        }
    }

    /** At close: every session ends, with no notices (the workers are going). */
    void endAll(String because) {
        for (SessionEntry s : List.copyOf(byId.values())) {
            s.lose(because);
        }
        byId.clear();
    }
}
