package io.pypool.ray;

import io.pypool.WorkerBackend;
import io.pypool.WorkerHost;
import io.pypool.WorkerSpec;
import io.pypool.ray.internal.RayBridge;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a pool's workers as Ray actors on a Ray cluster. Each worker is an actor that starts
 * pypool's own Python runtime on its node and relays the pool's frames to it; everything else
 * (routing, sessions, deadlines, the queue, restarts, typed errors, streams, cancellation,
 * callbacks into Java) is the pool's, exactly as with local workers.
 *
 * <pre>{@code
 * RayBackend ray = RayBackend.builder()
 *         .address("10.0.0.5:6379")          // the cluster's GCS; default: -Dray.address or RAY_ADDRESS
 *         .python("/opt/venv/bin/python")    // an interpreter with Ray on this node
 *         .numCpus(1).numGpus(1)
 *         .build();
 * try (PythonPool pool = PythonPool.builder().backend(ray).workers(8)
 *         .pythonPath(Path.of("handlers")).handlerModules("my_handlers").build()) {
 *     ...
 * }
 * }</pre>
 *
 * <p><b>One Ray driver per JVM.</b> Ray's Java driver is process-wide: the first pool connects
 * this JVM to its cluster (Ray.init) and every later Ray pool shares that connection, so all Ray
 * pools of a JVM use one cluster. A pool's {@code close()} kills its own actors but never shuts
 * Ray down under the others; Ray's driver ends with the JVM. This is the one thing pools of a JVM
 * share.
 *
 * <p><b>Where Ray comes from.</b> Nothing of Ray is needed to build against pypool-ray. At run
 * time, Ray's Java runtime is taken from the application's class path if it is there, and
 * otherwise from the {@code ray/jars/ray_dist.jar} of the {@link Builder#python interpreter}'s
 * Ray installation, in a class loader of its own. The JVM must run on a Ray node (there is no
 * Ray Client for Java). The same interpreter ships the pool's code: pypool's runtime and the
 * pool's {@code pythonPath} folders are uploaded once as a runtime-environment package, so no
 * worker node needs them on a local path.
 */
public final class RayBackend implements WorkerBackend {
    private static final Logger LOG = LoggerFactory.getLogger(RayBackend.class);

    private final String address;
    private final String python;
    private final Path rayJar;
    private final Map<String, Double> resources;
    private final Map<String, Object> runtimeEnv;

    private RayBackend(Builder b) {
        this.address = b.address;
        this.python = b.python;
        this.rayJar = b.rayJar;
        Map<String, Double> r = new LinkedHashMap<>();
        r.put("CPU", b.numCpus);
        if (b.numGpus > 0) {
            r.put("GPU", b.numGpus);
        }
        r.putAll(b.resources);
        this.resources = Map.copyOf(r);
        this.runtimeEnv = Map.copyOf(b.runtimeEnv);
    }

    /**

     * Returns a builder with defaults: one CPU per worker, no GPU, the address from {@code -Dray.address} or {@code RAY_ADDRESS}.

     *

     * @return a builder with defaults: one CPU per worker, no GPU, the address from {@code -Dray.address} or {@code RAY_ADDRESS}

     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public WorkerHost open(WorkerSpec spec) throws IOException {
        CodeBundle.Uploaded code = CodeBundle.upload(python, address, spec);
        RayBridge bridge = RayRuntime.bridge(rayJar != null ? rayJar : code.rayJar());
        try {
            bridge.connect(address);
        } catch (RuntimeException | LinkageError e) {
            throw new IOException("this JVM could not connect to Ray at " + address + " (Ray " + code.rayVersion()
                    + " from " + RayRuntime.source() + "): " + e, e);
        }
        String connected = bridge.connectedAddress();
        if (connected != null && !connected.equals(address)) {
            throw new IOException("this JVM's Ray driver is connected to " + connected + ", not " + address
                    + ": a JVM has one Ray driver, so all its Ray pools use one cluster");
        }
        LOG.debug("pool '{}': code shipped to Ray {} at {} as {}", spec.poolName(), code.rayVersion(), address, code.uri());
        return new RayHost(this, spec, bridge, code);
    }

    @Override
    public String describe() {
        return "Ray at " + address + " (per worker " + resources + ")";
    }

    String python() {
        return python;
    }

    String address() {
        return address;
    }

    Map<String, Double> actorResources() {
        return resources;
    }

    Map<String, Object> runtimeEnv() {
        return runtimeEnv;
    }

    /** Settings of a {@link RayBackend}; every setter checks its value at once. */
    public static final class Builder {
        private String address = defaultAddress();
        private String python = "python3";
        private Path rayJar;
        private double numCpus = 1;
        private double numGpus;
        private final Map<String, Double> resources = new LinkedHashMap<>();
        private final Map<String, Object> runtimeEnv = new LinkedHashMap<>();

        private Builder() {}

        private static String defaultAddress() {
            String a = System.getProperty("ray.address");
            return a != null && !a.isBlank() ? a : System.getenv("RAY_ADDRESS");
        }

        /**
         * The cluster's GCS address, {@code host:port}, as {@code ray start --head} printed it.
         *
         * @param address the address
         * @return this builder
         */
        public Builder address(String address) {
            if (address == null || !address.matches("[^\\s:/]+:\\d{1,5}")
                    || Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)) > 65_535
                    || Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)) == 0) {
                throw new IllegalArgumentException("address = '" + address + "' is invalid: it must be host:port, "
                        + "the GCS address 'ray start --head' prints (for example 127.0.0.1:6379)");
            }
            this.address = address;
            return this;
        }

        /**
         * An interpreter on this node that has Ray installed, at the cluster's version; default
         * {@code python3}. It finds Ray's Java runtime ({@code ray/jars/ray_dist.jar}) and ships
         * the pool's code to the cluster. The workers themselves run on the actors' interpreter.
         *
         * @param python the interpreter's path or name
         * @return this builder
         */
        public Builder python(String python) {
            this.python = Objects.requireNonNull(python, "python");
            return this;
        }

        /**
         * Ray's Java runtime jar to load, instead of the one of {@link #python}'s Ray installation.
         *
         * @param jar the path of a {@code ray_dist.jar}
         * @return this builder
         */
        public Builder rayJar(Path jar) {
            this.rayJar = Objects.requireNonNull(jar, "rayJar");
            return this;
        }

        /**
         * CPUs each worker's actor reserves; default 1. Ray places actors where they fit, so this
         * also spreads workers over the cluster's nodes.
         *
         * @param cpus a number of CPUs, 0 or more (fractions allowed)
         * @return this builder
         */
        public Builder numCpus(double cpus) {
            this.numCpus = nonNegative("numCpus", cpus);
            return this;
        }

        /**
         * GPUs each worker's actor reserves; default 0. Ray sets {@code CUDA_VISIBLE_DEVICES} for the
         * actor and its worker process inherits it.
         *
         * @param gpus a number of GPUs, 0 or more (fractions allowed)
         * @return this builder
         */
        public Builder numGpus(double gpus) {
            this.numGpus = nonNegative("numGpus", gpus);
            return this;
        }

        /**
         * A custom resource each worker's actor reserves ({@code ray start --resources}), or
         * {@code memory} in bytes.
         *
         * @param name   the resource's name; CPU and GPU have their own setters
         * @param amount how much, more than 0
         * @return this builder
         */
        public Builder resource(String name, double amount) {
            if (name == null || name.isBlank() || name.equals("CPU") || name.equals("GPU")) {
                throw new IllegalArgumentException("resource name = '" + name + "' is invalid: name a custom resource "
                        + "(numCpus and numGpus set CPU and GPU)");
            }
            if (!(amount > 0)) {
                throw new IllegalArgumentException("resource '" + name + "' = " + amount + " is invalid: it must be more than 0");
            }
            resources.put(name, amount);
            return this;
        }

        /**
         * One field of the actors' Ray runtime environment ({@code pip}, {@code env_vars},
         * {@code py_modules}, {@code container}...), as Ray documents it; the value is a String,
         * number, boolean, List or Map. pypool adds its own code package to {@code py_modules}.
         *
         * @param field the field's name
         * @param value its value
         * @return this builder
         */
        public Builder runtimeEnv(String field, Object value) {
            if (field == null || field.isBlank()) {
                throw new IllegalArgumentException("runtimeEnv field = '" + field + "' is invalid: it must be a name");
            }
            Objects.requireNonNull(value, "value");
            if (field.equals("env_vars") && !(value instanceof Map<?, ?> vars
                    && vars.entrySet().stream().allMatch(e -> e.getKey() instanceof String && e.getValue() instanceof String))) {
                throw new IllegalArgumentException("runtimeEnv env_vars = '" + value + "' is invalid: it must be a Map of "
                        + "String to String (for the workers' own variables, PythonPoolBuilder.environment is simpler)");
            }
            if ((field.equals("py_modules") || field.equals("jars")) && !(value instanceof java.util.List<?>)) {
                throw new IllegalArgumentException("runtimeEnv " + field + " = '" + value + "' is invalid: it must be a List");
            }
            runtimeEnv.put(field, value);
            return this;
        }

        /**
         * Builds the backend.
         *
         * @return the backend
         * @throws IllegalArgumentException when no address was given and none is set in
         *         {@code -Dray.address} or {@code RAY_ADDRESS}
         */
        public RayBackend build() {
            if (address == null || address.isBlank()) {
                throw new IllegalArgumentException("no Ray address: set address(\"host:port\"), -Dray.address or RAY_ADDRESS");
            }
            address(address); // the default from the environment is checked like a given one
            return new RayBackend(this);
        }

        private static double nonNegative(String option, double value) {
            if (!(value >= 0) || Double.isInfinite(value)) {
                throw new IllegalArgumentException(option + " = " + value + " is invalid: it must be 0 or more");
            }
            return value;
        }
    }
}
