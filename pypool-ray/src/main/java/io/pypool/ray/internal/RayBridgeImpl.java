package io.pypool.ray.internal;

import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.call.PyActorCreator;
import io.ray.api.exception.RayActorException;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayTimeoutException;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.runtimeenv.RuntimeEnv;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * {@link RayBridge} on Ray's Java API. Loaded in the class loader that holds Ray (the cluster's
 * {@code ray_dist.jar}), and run with that loader as the thread's context loader, since Ray reads
 * its configuration through it.
 */
public final class RayBridgeImpl implements RayBridge {
    private static final PyActorMethod<byte[]> INFO_TYPE = PyActorMethod.of("info", byte[].class);
    /**
     * Set as the JVM begins to exit (or the driver is disconnected). Ray's own shutdown hook ends
     * its driver then, and a call into Ray after that ends the process with exit code 1, so from
     * here on no new call reaches Ray: it fails with a ShuttingDownException instead. Best effort:
     * shutdown hooks run in no set order, and a call already inside Ray when Ray's hook runs is
     * beyond reach; pools closed before the JVM exits never meet this.
     */
    private volatile boolean closing;
    private boolean hooked; // guarded by this

    /** Made by reflection from pypool-ray's runtime loader. */
    public RayBridgeImpl() {
        // no state: Ray's is per JVM
    }

    @Override
    public synchronized void connect(String address) {
        inRay(() -> {
            if (!Ray.isInitialized()) {
                if (address != null) {
                    System.setProperty("ray.address", address);
                }
                // Ray's log4j would print its configuration steps on stdout; a user's setting wins.
                if (System.getProperty("log4j2.statusLoggerLevel") == null) {
                    System.setProperty("log4j2.statusLoggerLevel", "WARN");
                }
                Ray.init();
            }
            if (!hooked) { // also when the application initialised Ray itself (a Ray job)
                hooked = true;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> closing = true, "pypool-ray-closing"));
            }
            return null;
        });
    }

    @Override
    public String connectedAddress() {
        return Ray.isInitialized() ? System.getProperty("ray.address") : null;
    }

    @Override
    public Object createActor(String module, String className, byte[] argument, Map<String, Double> resources,
                             Map<String, Object> runtimeEnv, int maxConcurrency) {
        return inRay(() -> {
            RuntimeEnv env = new RuntimeEnv.Builder().build();
            runtimeEnv.forEach(env::set);
            PyActorCreator creator = new EnvActorCreator(PyActorClass.of(module, className), new Object[] {argument}, env);
            creator.setMaxRestarts(0).setMaxTaskRetries(0).setAsync(true).setMaxConcurrency(maxConcurrency);
            resources.forEach(creator::setResource);
            return creator.remote();
        });
    }

    @Override
    public Object call(Object actor, String method, byte[] argument) {
        PyActorHandle handle = (PyActorHandle) actor;
        PyActorMethod<byte[]> m = method.equals("info") ? INFO_TYPE : PyActorMethod.of(method, byte[].class);
        return inRay(() -> argument == null ? handle.task(m).remote() : handle.task(m, argument).remote());
    }

    @Override
    @SuppressWarnings("unchecked")
    public byte[] get(Object ref, long timeoutMillis) throws ActorLostException, TimeoutException {
        open();
        ClassLoader before = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(RayBridgeImpl.class.getClassLoader());
        try {
            return Ray.get((ObjectRef<byte[]>) ref, timeoutMillis);
        } catch (RayTimeoutException e) {
            throw new TimeoutException("no answer within " + timeoutMillis + " ms");
        } catch (RayActorException e) {
            throw new ActorLostException("died: " + firstLine(e));
        } catch (RayException e) {
            throw new ActorLostException("failed a call: " + firstLine(e));
        } finally {
            Thread.currentThread().setContextClassLoader(before);
            // Ray counts a Java ObjectRef as gone once it is collected, and frees its object. The
            // ref must stay reachable until the get has returned, or a GC during the get (likely
            // while big results come in) frees the object under it and Ray ends the process.
            java.lang.ref.Reference.reachabilityFence(ref);
        }
    }

    @Override
    public synchronized void disconnect() {
        closing = true;
        ClassLoader before = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(RayBridgeImpl.class.getClassLoader());
        try {
            if (Ray.isInitialized()) {
                Ray.shutdown();
            }
        } finally {
            Thread.currentThread().setContextClassLoader(before);
        }
    }

    @Override
    public void kill(Object actor) {
        inRay(() -> {
            ((PyActorHandle) actor).kill(true);
            return null;
        });
    }

    @Override
    public String actorId(Object actor) {
        return ((PyActorHandle) actor).getId().toString();
    }

    private void open() {
        if (closing) {
            throw new ShuttingDownException();
        }
    }

    private <T> T inRay(Supplier<T> work) {
        open();
        ClassLoader before = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(RayBridgeImpl.class.getClassLoader());
        try {
            return work.get();
        } finally {
            Thread.currentThread().setContextClassLoader(before);
        }
    }

    private static String firstLine(Throwable e) {
        String m = e.getMessage();
        String line = m == null ? e.getClass().getSimpleName() : m.strip().split("\n", 2)[0];
        return line.length() > 500 ? line.substring(0, 500) + "..." : line;
    }

    /** Ray's Python actor creator has no runtime-env setter; its options builder does. */
    private static final class EnvActorCreator extends PyActorCreator {
        EnvActorCreator(PyActorClass cls, Object[] args, RuntimeEnv env) {
            super(cls, args);
            builder.setRuntimeEnv(env);
        }
    }
}
