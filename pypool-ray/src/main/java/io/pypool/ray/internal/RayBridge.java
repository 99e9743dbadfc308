package io.pypool.ray.internal;

import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * The few things pypool-ray asks of Ray's Java API, in JDK types only, so that Ray itself can live
 * in a class loader of its own ({@link RayBridgeImpl} is loaded there). Not an API for users:
 * public only because the two class loaders must both see it.
 */
public interface RayBridge {

    /** Thrown by {@link #get} when the actor is gone ("died: ...") or its method failed ("failed a call: ..."). */
    final class ActorLostException extends Exception {
        private static final long serialVersionUID = 1L;

        /** @param message what Ray said, its first line */
        public ActorLostException(String message) {
            super(message);
        }
    }

    /** Thrown by every method once Ray is going away with the JVM (or was disconnected): nothing more reaches Ray. */
    final class ShuttingDownException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        /** The one message: Ray cannot be asked anything more in this JVM. */
        public ShuttingDownException() {
            super("Ray is shutting down in this JVM (or its driver was disconnected)");
        }
    }

    /** Connects this JVM to the cluster at {@code address} unless it is connected already (Ray.init runs once per JVM). */
    void connect(String address);

    /** The address this JVM's Ray driver is connected to, or null when it is not. */
    String connectedAddress();

    /**
     * Creates an asynchronous Python actor that Ray never restarts and never retries tasks on.
     *
     * @return the actor's handle, opaque here
     */
    Object createActor(String module, String className, byte[] argument, Map<String, Double> resources,
                       Map<String, Object> runtimeEnv, int maxConcurrency);

    /** Calls a method of the actor with one bytes argument, or none when {@code argument} is null; returns the result's ref. */
    Object call(Object actor, String method, byte[] argument);

    /** Waits for a bytes result. */
    byte[] get(Object ref, long timeoutMillis) throws ActorLostException, TimeoutException;

    /** Disconnects this JVM's driver (Ray.shutdown); only before the cluster itself goes away. */
    void disconnect();

    /** Kills the actor (no restart); returns at once. */
    void kill(Object actor);

    /** The actor's id, in hex. */
    String actorId(Object actor);
}
