package io.pypool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pypool.testkit.PypoolExtension;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** NumPy arrays whose shape does not describe their bytes, from the caller and from a worker. */
class HostileAttachmentsTest {

    @RegisterExtension
    final PypoolExtension pools = PypoolExtension.create();

    @Test
    void anNdArrayWhoseElementCountOverflowsALongIsRefused() {
        // 65536^4 = 2^64 elements: the product wraps to 0 in a long, which matches 0 bytes.
        assertThatThrownBy(() -> new NdArray("uint8", new int[] {65536, 65536, 65536, 65536}, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aWorkersNdArrayWithAnElementCountThatOverflowsIsNotAccepted() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        String json = "{\"__pypool_ndarray__\": 0, \"dtype\": \"uint8\", \"shape\": [65536, 65536, 65536, 65536]}";
        assertThatThrownBy(() -> pool.call("h.raw_attached_reply", Map.of("json_text", json, "parts", List.of("")),
                NdArray.class)).isInstanceOf(PypoolException.class);
    }

    @Test
    void aWorkersNdArrayWithADimensionPastIntIsNotReadAsAnotherShape() throws Exception {
        PythonPool pool = pools.start(TestPools.builder().workers(1));
        // 2^32 + 2: read with intValue() it becomes 2, which matches the 2 bytes sent.
        String json = "{\"__pypool_ndarray__\": 0, \"dtype\": \"uint8\", \"shape\": [4294967298]}";
        assertThatThrownBy(() -> {
            NdArray a = pool.call("h.raw_attached_reply", Map.of("json_text", json, "parts", List.of("0102")), NdArray.class);
            throw new AssertionError("accepted as " + a + " with shape " + java.util.Arrays.toString(a.shape()));
        }).isInstanceOf(PypoolException.class);
    }
}
