package io.pypool.ray;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pypool.WorkerHost;
import io.pypool.WorkerLink;
import io.pypool.WorkerSpec;
import io.pypool.ray.internal.RayBridge;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link RayBackend} opened for one pool: creates one relay actor per worker, with the pool's
 * code package, resources and runtime environment, and kills the actors it still has when the
 * pool closes. Actors are never detached: when the driver JVM dies, Ray ends them with its job.
 */
final class RayHost implements WorkerHost {
    /** Concurrent actor calls: the long-poll pull, the info call and pushes in flight. */
    private static final int ACTOR_CONCURRENCY = 16;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RayBackend backend;
    private final WorkerSpec spec;
    private final RayBridge bridge;
    private volatile CodeBundle.Uploaded code;
    private final Set<RayLink> live = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    RayHost(RayBackend backend, WorkerSpec spec, RayBridge bridge, CodeBundle.Uploaded code) {
        this.backend = backend;
        this.spec = spec;
        this.bridge = bridge;
        this.code = code;
    }

    @Override
    public WorkerLink start(String workerId, WorkerLink.Listener listener) throws IOException {
        if (closed) {
            throw new IOException("the pool's Ray host is closed");
        }
        refreshCode();
        Map<String, Object> relaySpec = new LinkedHashMap<>();
        relaySpec.put("args", spec.workerArguments(workerId));
        relaySpec.put("env", spec.environment());
        relaySpec.put("paths", code.paths());
        relaySpec.put("pool", spec.poolName());
        relaySpec.put("run_id", spec.runId());
        Object actor;
        try {
            actor = bridge.createActor(CodeBundle.PACKAGE, "Relay", JSON.writeValueAsBytes(relaySpec),
                    backend.actorResources(), runtimeEnv(), ACTOR_CONCURRENCY);
        } catch (RuntimeException | LinkageError e) { // a LinkageError: a Ray whose Java API moved on
            throw new IOException("Ray refused to create the worker's actor: " + e, e);
        }
        RayLink link = new RayLink(this, spec.poolName() + "-" + workerId, actor, listener, spec.startupTimeout().toMillis());
        live.add(link);
        if (closed) { // closed meanwhile: close() may have missed it
            link.killActor();
        }
        return link;
    }

    /**
     * Ray keeps a package while actors name it, and a fresh upload for 10 minutes. A pool whose
     * actors are all gone (a crash loop, a long outage) ships its code again before it creates the
     * next one, rather than name a package Ray may have dropped.
     */
    private void refreshCode() throws IOException {
        if (live.isEmpty() && System.nanoTime() - code.uploadedAtNanos() > CodeBundle.REUSE_NANOS) {
            code = CodeBundle.upload(backend.python(), backend.address(), spec); // from the pythonPath folders as they are now
        }
    }

    /** The actor's runtime environment: the user's, with pypool's code package added to its py_modules. */
    private Map<String, Object> runtimeEnv() {
        Map<String, Object> env = new LinkedHashMap<>(backend.runtimeEnv());
        List<Object> modules = new ArrayList<>();
        modules.add(code.uri());
        if (env.get("py_modules") instanceof List<?> theirs) {
            modules.addAll(theirs);
        }
        env.put("py_modules", modules);
        return env;
    }

    RayBridge bridge() {
        return bridge;
    }

    String resourcesText() {
        return backend.actorResources().toString();
    }

    String runtimeEnvText() {
        return backend.runtimeEnv().toString();
    }

    void forget(RayLink link) {
        live.remove(link);
    }

    @Override
    public void close() {
        closed = true;
        for (RayLink link : List.copyOf(live)) {
            link.killActor(); // whatever is left after the pool's own shutdown
        }
    }
}
