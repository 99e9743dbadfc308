package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pypool.testkit.PypoolExtension;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * NdArray in, np.ndarray out and back, on an interpreter with NumPy named by
 * {@code -Dpypool.numpyPython} (.ci/run makes target/np-venv); skipped without it.
 */
class NumpyArraysTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    private PythonPool pool() {
        String python = System.getProperty("pypool.numpyPython", "").strip();
        Assumptions.assumeFalse(python.isEmpty(), "NumPy tests skipped: give an interpreter with NumPy as "
                + "-Dpypool.numpyPython=PATH (bash .ci/run makes target/np-venv)");
        return pools.start(TestPools.builder().workers(1).pythonExecutable(python));
    }

    @Test
    void anNdArrayArgumentArrivesAsAWritableZeroCopyNdarray() throws Exception {
        PythonPool pool = pool();
        NdArray a = NdArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        JsonNode info = pool.call("np.info", Map.of("array", a), JsonNode.class);
        assertThat(info.get("type").asText()).isEqualTo("ndarray");
        assertThat(info.get("dtype").asText()).isEqualTo("float64");
        assertThat(info.get("shape").toString()).isEqualTo("[2,3]");
        assertThat(info.get("sum").asDouble()).isEqualTo(21.0);
        assertThat(info.get("first").toString()).isEqualTo("[1.0,2.0,3.0]");
        assertThat(info.get("view").asBoolean()).as("a view of the received frame, not a copy").isTrue();
        assertThat(info.get("writeable").asBoolean()).isTrue();

        JsonNode ints = pool.call("np.info", Map.of("array", NdArray.of(new int[] {-1, 7}, 2)), JsonNode.class);
        assertThat(ints.get("dtype").asText()).isEqualTo("int32");
        assertThat(ints.get("first").toString()).isEqualTo("[-1,7]");
    }

    @Test
    void anNdarrayResultArrivesAsNdArrayForEveryTargetType() throws Exception {
        PythonPool pool = pool();
        NdArray m = pool.call("np.make", Map.of("rows", 2, "cols", 3), NdArray.class);
        assertThat(m.dtype()).isEqualTo("float64");
        assertThat(m.shape()).containsExactly(2, 3);
        assertThat(m.asDoubles()).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(pool.call("np.make", Map.of("rows", 2, "cols", 3), Object.class)).isEqualTo(m);
        for (String dtype : List.of("float32", "int64", "int16", "uint8", "bool", "uint64")) {
            NdArray typed = pool.call("np.make", Map.of("rows", 1, "cols", 3, "dtype", dtype), NdArray.class);
            assertThat(typed.dtype()).isEqualTo(dtype);
            assertThat(typed.asLongs()).as(dtype).containsExactly(0, 1, dtype.equals("bool") ? 1 : 2);
        }
    }

    @Test
    void arraysNestedAndNonContiguousOrBigEndianArriveInCOrderLittleEndian() throws Exception {
        PythonPool pool = pool();
        Map<?, ?> r = pool.call("np.nested", null, Map.class);
        NdArray t = (NdArray) r.get("t");
        assertThat(t.dtype()).isEqualTo("int32");
        assertThat(t.shape()).containsExactly(3, 2);
        assertThat(t.asInts()).containsExactly(0, 3, 1, 4, 2, 5);
        assertThat(r.get("scalar")).isEqualTo(7);
        assertThat(((NdArray) ((List<?>) r.get("list")).get(0)).asFloats()).containsExactly(0f, 0f);
    }

    @Test
    void anArrayGoesThereAndBack() throws Exception {
        PythonPool pool = pool();
        NdArray a = NdArray.of(new float[] {1.5f, -2f, 3f, 0f}, 2, 2);
        NdArray doubled = pool.call("np.double", Map.of("array", a), NdArray.class);
        assertThat(doubled.shape()).containsExactly(2, 2);
        assertThat(doubled.asFloats()).containsExactly(3f, -4f, 6f, 0f);
    }

    @Test
    void theReadmeExampleStandardizes() throws Exception {
        PythonPool pool = pool();
        NdArray x = NdArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        double[] z = pool.call("stats.standardize", Map.of("x", x), NdArray.class).asDoubles();
        assertThat(z).hasSize(6);
        assertThat(z[0]).isCloseTo(-1.4638501094227998, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(z[5]).isCloseTo(1.4638501094227998, org.assertj.core.data.Offset.offset(1e-12));
    }
}
