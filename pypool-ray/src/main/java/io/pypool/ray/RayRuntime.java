package io.pypool.ray;

import io.pypool.ray.internal.RayBridge;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Ray's Java runtime, once per JVM. Ray keeps its driver in static state and loads a native
 * library, so there can be only one: every pool of the JVM shares it, and no pool's close shuts it
 * down. Taken from the application's class path when Ray's runtime is there already (an application started
 * as a Ray job); otherwise from the cluster's own {@code ray_dist.jar}, loaded in a class loader of
 * its own so that the libraries Ray bundles (protobuf, Guava, log4j...) never meet the
 * application's.
 */
final class RayRuntime {
    private static final String IMPL = "io.pypool.ray.internal.RayBridgeImpl";
    private static RayBridge bridge; // guarded by RayRuntime.class
    private static String source;

    private RayRuntime() {}

    /**
     * The JVM's Ray bridge, loading Ray on first use.
     *
     * @param rayJar the cluster's ray_dist.jar, used when the application's class path has no Ray
     */
    static synchronized RayBridge bridge(Path rayJar) throws IOException {
        if (bridge != null) {
            return bridge;
        }
        ClassLoader own = RayRuntime.class.getClassLoader();
        ClassLoader loader;
        if (hasRay(own)) {
            loader = own;
            source = "the application's class path";
        } else {
            if (rayJar == null || !Files.isRegularFile(rayJar)) {
                throw new IOException("Ray's Java runtime was not found: no io.ray.api.Ray on the class path and no "
                        + (rayJar == null ? "ray_dist.jar given" : rayJar + " (is Ray installed for that interpreter?)"));
            }
            loader = new Isolated(rayJar.toUri().toURL(), own);
            source = rayJar.toString();
        }
        try {
            Class<?> impl = Class.forName(IMPL, true, loader);
            bridge = (RayBridge) impl.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IOException("Ray's Java runtime from " + source + " could not be loaded: " + e, e);
        }
        return bridge;
    }

    /**
     * Disconnects this JVM's Ray driver if it is connected to {@code address}: Ray ends a driver's
     * process when its cluster goes away, so a cluster that is about to stop lets go of it first.
     */
    static synchronized void disconnectFrom(String address) {
        if (bridge != null && address.equals(bridge.connectedAddress())) {
            bridge.disconnect();
        }
    }

    /** Where the JVM's Ray runtime came from, or null before it was loaded. */
    static synchronized String source() {
        return source;
    }

    private static boolean hasRay(ClassLoader loader) {
        try {
            // Ray's runtime, not only its API: the API alone (ray-api from Maven Central) cannot run a driver.
            Class.forName("io.ray.runtime.DefaultRayRuntimeFactory", false, loader);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * Child-first over Ray's jar: Ray and everything it bundles come from the jar; the JDK and
     * pypool (but the bridge's implementation, defined here from pypool's own class file) from the
     * parent. Resources too, so Ray reads its own configuration files.
     */
    static final class Isolated extends URLClassLoader {
        static {
            registerAsParallelCapable();
        }

        Isolated(URL rayJar, ClassLoader parent) {
            super(new URL[] {rayJar}, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    if (name.equals(IMPL) || name.startsWith(IMPL + "$")) {
                        c = defineFromParent(name);
                    } else if (name.startsWith("java.") || name.startsWith("io.pypool.")) {
                        c = getParent().loadClass(name);
                    } else {
                        try {
                            c = findClass(name);
                        } catch (ClassNotFoundException e) {
                            c = getParent().loadClass(name);
                        }
                    }
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }

        private Class<?> defineFromParent(String name) throws ClassNotFoundException {
            String file = name.replace('.', '/') + ".class";
            try (InputStream in = getParent().getResourceAsStream(file)) {
                if (in == null) {
                    throw new ClassNotFoundException(name);
                }
                byte[] bytes = in.readAllBytes();
                return defineClass(name, bytes, 0, bytes.length);
            } catch (IOException e) {
                throw new ClassNotFoundException(name, e);
            }
        }

        @Override
        public URL getResource(String name) {
            URL own = findResource(name);
            return own != null ? own : super.getResource(name);
        }

        @Override
        public Enumeration<URL> getResources(String name) throws IOException {
            Set<URL> all = new LinkedHashSet<>(Collections.list(findResources(name)));
            all.addAll(Collections.list(getParent().getResources(name)));
            return Collections.enumeration(all);
        }

    }
}
