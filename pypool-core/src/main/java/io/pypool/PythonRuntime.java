package io.pypool;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Where the Python side comes from: pypool's own runtime package, unpacked from the jar into a
 * cache folder named by its content hash, and the real interpreter behind a command such as
 * {@code python3}. Both are facts about the machine, not pool state, so they are found once per JVM.
 */
final class PythonRuntime {
    private static final String RESOURCE_ROOT = "io/pypool/runtime/";
    private static final Map<String, Interpreter> INTERPRETERS = new ConcurrentHashMap<>();
    private static volatile Path unpacked;

    private PythonRuntime() {}

    record Interpreter(String executable, String version) {}

    /** The real interpreter behind {@code command}, found by asking it for {@code sys.executable}. */
    static Interpreter resolve(String command) throws IOException {
        Interpreter known = INTERPRETERS.get(command);
        if (known != null) {
            return known;
        }
        Process p;
        try {
            p = new ProcessBuilder(command, "-c",
                    "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])")
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("the Python interpreter '" + command + "' could not be started (" + e.getMessage()
                    + "); install Python 3.9+ or give its path with pythonExecutable(...)", e);
        }
        try {
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("the Python interpreter '" + command + "' failed to report itself: "
                        + new String(out, StandardCharsets.UTF_8).strip());
            }
            List<String> lines = new String(out, StandardCharsets.UTF_8).strip().lines().toList();
            String executable = lines.get(lines.size() - 2).strip();
            String version = lines.get(lines.size() - 1).strip();
            String[] parts = version.split("\\.");
            if (Integer.parseInt(parts[0]) < 3 || (Integer.parseInt(parts[0]) == 3 && Integer.parseInt(parts[1]) < 9)) {
                throw new IOException("the Python interpreter '" + command + "' is version " + version
                        + "; pypool needs 3.9 or later");
            }
            if (executable.isEmpty() || !Files.isExecutable(Path.of(executable))) {
                executable = command; // an embedded interpreter may not know its own path
            }
            Interpreter found = new Interpreter(executable, version);
            INTERPRETERS.putIfAbsent(command, found);
            return found;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking '" + command + "' for its version", e);
        } finally {
            p.destroyForcibly();
        }
    }

    /** The folder that holds the {@code pypool} package, ready to go on PYTHONPATH. */
    static Path unpack() throws IOException {
        Path known = unpacked;
        if (known != null && Files.isRegularFile(known.resolve("pypool/__init__.py"))) {
            return known;
        }
        synchronized (PythonRuntime.class) {
            Map<String, byte[]> files = readResources();
            Path root = cacheRoot();
            Path target = root.resolve("runtime-" + hash(files));
            if (!Files.isRegularFile(target.resolve("pypool/__init__.py"))) {
                Files.createDirectories(root);
                Path staging = Files.createTempDirectory(root, ".staging-");
                for (Map.Entry<String, byte[]> file : files.entrySet()) {
                    Path dest = staging.resolve(file.getKey());
                    Files.createDirectories(dest.getParent());
                    Files.write(dest, file.getValue());
                }
                try {
                    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException
                         | java.nio.file.DirectoryNotEmptyException e) {
                    deleteTree(staging); // another JVM unpacked the same content first
                }
            }
            unpacked = target;
            return target;
        }
    }

    private static Path cacheRoot() {
        String explicit = System.getenv("PYPOOL_CACHE_DIR");
        if (explicit != null && !explicit.isBlank()) {
            return Paths.get(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Paths.get(xdg, "pypool");
        }
        String home = System.getProperty("user.home");
        if (home != null && Files.isWritable(Paths.get(home))) {
            return Paths.get(home, ".cache", "pypool");
        }
        return Paths.get(System.getProperty("java.io.tmpdir"), "pypool-" + System.getProperty("user.name"));
    }

    private static Map<String, byte[]> readResources() throws IOException {
        URL marker = PythonRuntime.class.getClassLoader().getResource(RESOURCE_ROOT + "pypool/__init__.py");
        if (marker == null) {
            throw new IOException("pypool's Python runtime is missing from the classpath (" + RESOURCE_ROOT + ")");
        }
        Map<String, byte[]> files = new TreeMap<>();
        if ("jar".equals(marker.getProtocol())) {
            JarURLConnection connection = (JarURLConnection) marker.openConnection();
            connection.setUseCaches(false);
            try (JarFile jar = connection.getJarFile()) {
                for (JarEntry entry : java.util.Collections.list(jar.entries())) {
                    String name = entry.getName();
                    if (!entry.isDirectory() && name.startsWith(RESOURCE_ROOT) && name.endsWith(".py")) {
                        try (InputStream in = jar.getInputStream(entry)) {
                            files.put(name.substring(RESOURCE_ROOT.length()), in.readAllBytes());
                        }
                    }
                }
            }
        } else {
            try {
                Path base = Paths.get(marker.toURI()).getParent().getParent();
                try (Stream<Path> walk = Files.walk(base)) {
                    for (Path p : walk.filter(f -> f.toString().endsWith(".py")).toList()) {
                        files.put(base.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
                    }
                }
            } catch (URISyntaxException e) {
                throw new IOException("cannot read pypool's Python runtime at " + marker, e);
            }
        }
        return files;
    }

    private static String hash(Map<String, byte[]> files) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            files.forEach((name, bytes) -> {
                digest.update(name.getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                digest.update(bytes);
            });
            return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // a leftover staging folder is harmless; the next unpack makes its own
        }
    }
}
