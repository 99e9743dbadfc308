package io.pypool;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * Steps every worker runs after its hello and before its first call ({@code configureWorkers}),
 * replacements included. A new step is transactional: it runs on one worker first, and only if
 * it succeeds there is it kept and run on the others; a worker that then fails it is replaced
 * (its replacement runs the kept step) and the caller hears which worker failed and why. A new
 * worker that refuses a kept step is not restarted over it (that would loop); it serves without
 * the step, and {@code health()} reports it.
 */
final class WorkerSetup {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PythonPool.class);
    private record Step(String command, Object args) {}

    private final PoolEngine pool;
    /** By key, in the order first set; guarded by this. */
    private final Map<String, Step> steps = new LinkedHashMap<>();

    WorkerSetup(PoolEngine pool) {
        this.pool = pool;
    }

    /** Runs the kept steps on a worker that just said hello, in order; then {@code ready}, or {@code failed} with why. */
    void run(Worker w, Runnable ready, Consumer<String> failed) {
        List<Step> list;
        synchronized (this) {
            list = List.copyOf(steps.values());
        }
        runFrom(w, list, 0, ready, failed);
    }

    private void runFrom(Worker w, List<Step> list, int next, Runnable ready, Consumer<String> failed) {
        if (next == list.size()) {
            List<Step> keptMeanwhile;
            synchronized (this) {
                keptMeanwhile = steps.values().stream().filter(step -> !list.contains(step)).toList();
            }
            if (keptMeanwhile.isEmpty()) {
                ready.run(); // a step kept from here on reaches it as a READY worker
            } else {
                List<Step> more = new java.util.ArrayList<>(list);
                more.addAll(keptMeanwhile);
                runFrom(w, more, next, ready, failed);
            }
            return;
        }
        Step step = list.get(next);
        Call call = pool.newInternalCall(step.command(), step.args(), null, pool.settings().startupTimeout().toNanos());
        call.whenComplete((reply, error) -> {
            String why = problem(call, reply, error);
            if (why == null) {
                runFrom(w, list, next + 1, ready, failed);
            } else if (error != null) {
                failed.accept("'" + step.command() + "': " + why); // it died or hung: a failed start
            } else {
                // It refused a step that workers already took: the world changed under it (a
                // backend went away). Restarting it would only loop; it serves without the step,
                // and health says so until it is replaced.
                String problem = "worker " + w.id + " refused setup step '" + step.command() + "' (" + why
                        + ") and serves without it";
                w.setupProblem(problem);
                pool.monitor().incident(problem);
                LOG.warn("pool '{}': {}", pool.name(), problem);
                runFrom(w, list, next + 1, ready, failed);
            }
        });
        pool.dispatcher().sendSetup(w, call);
    }

    private String problem(Call call, Call.Reply reply, Throwable error) {
        if (error != null) {
            return PoolEngine.unwrap(error).getMessage();
        }
        if (reply.kind() == FrameCodec.REPLY_OK) {
            return null;
        }
        try {
            pool.replies().decode(reply, call, JsonNode.class);
            return "an unreadable reply";
        } catch (PythonException e) {
            return e.pythonType() + ": " + e.pythonMessage();
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    CompletableFuture<Void> configure(String key, String command, Object args) {
        Objects.requireNonNull(key, "key");
        if (command == null || command.isEmpty()) {
            throw new IllegalArgumentException("command must be a non-empty name");
        }
        if (pool.isClosed()) {
            throw new PoolClosedException(pool.name(), "the pool is closed; workers cannot be configured");
        }
        pool.checkEncodable(command, args);
        Step step = new Step(command, args);
        Worker first = null;
        for (Worker w : pool.workers()) {
            if (w.isReady()) {
                first = w;
                break;
            }
        }
        if (first == null) {
            keep(key, step); // no worker serves yet: each runs it as it starts
            return CompletableFuture.completedFuture(null);
        }
        Worker trial = first;
        return runOn(trial, step).thenCompose(ok -> {
            keep(key, step);
            List<Worker> others = new ArrayList<>();
            for (Worker w : pool.workers()) {
                if (w != trial && w.isReady()) { // one still starting runs the kept steps in its setup
                    others.add(w);
                }
            }
            List<CompletableFuture<String>> runs = new ArrayList<>();
            for (Worker w : others) {
                runs.add(runOn(w, step).handle((done, error) -> {
                    if (error == null) {
                        return null;
                    }
                    Throwable cause = PoolEngine.unwrap(error);
                    if (cause instanceof PythonException || cause instanceof UnknownCommandException
                            || cause instanceof BadArgumentsException) {
                        // It refused what the others took: it is replaced, and its replacement runs the step at setup.
                        w.transport().kill("it failed setup step '" + command + "' that other workers ran: " + cause.getMessage());
                        return "worker " + w.id + " failed it and is being replaced: " + cause.getMessage();
                    }
                    return null; // it died meanwhile: its replacement runs the step at setup
                }));
            }
            return CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).thenApply(all -> {
                for (CompletableFuture<String> run : runs) {
                    String failure = run.join();
                    if (failure != null) {
                        throw new CompletionException(new PythonException(pool.name(), command, "setup",
                                "SetupStepFailed", failure, ""));
                    }
                }
                return (Void) null;
            });
        });
    }

    private synchronized void keep(String key, Step step) {
        steps.put(key, step);
    }

    /** Runs the step on one worker, after what it already accepted; fails with the typed error it reported. */
    private CompletableFuture<Void> runOn(Worker w, Step step) {
        Call call = pool.newInternalCall(step.command(), step.args(), null, pool.settings().callTimeout().toNanos());
        pool.dispatcher().submitTo(w, call);
        return call.thenApply(reply -> {
            if (reply == null) {
                return null;
            }
            if (reply.kind() != FrameCodec.REPLY_OK) {
                pool.replies().decode(reply, call, JsonNode.class); // throws the typed error the worker reported
            }
            return null;
        });
    }
}
