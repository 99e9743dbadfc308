package io.pypool;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * A NumPy array on the Java side: its dtype (NumPy's name), its shape and its elements' bytes, in
 * C order (last index fastest), little-endian. As a call argument it arrives in Python as an
 * {@code np.ndarray} (a view of the received bytes, no copy; NumPy must be installed in the
 * worker's Python); an {@code np.ndarray} a handler returns arrives as an NdArray (as a result of
 * type NdArray or Object, or inside a Map, List or record). Both travel as binary attachments.
 *
 * <p>dtypes: {@code bool, int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32,
 * float64}. A handler returning another dtype (complex, strings, objects) gets an error reply.
 *
 * <p>The data array is not copied: an NdArray shares it with whoever made it.
 *
 * @param dtype the element type, as NumPy names it: one of {@link #DTYPES}
 * @param shape the size of each dimension (C order); empty for a scalar
 * @param data the elements' bytes, C order, little-endian, {@link #itemSize(String)} bytes each
 */
public record NdArray(String dtype, int[] shape, byte[] data) {
    /** The dtypes both sides know, as NumPy names them. */
    public static final List<String> DTYPES = List.of("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32",
            "int64", "uint64", "float32", "float64");

    /**
     * Checks that the dtype is one both sides know and that the data holds exactly the elements the
     * shape says. Neither array is copied.
     *
     * @param dtype one of {@link #DTYPES}
     * @param shape the size of each dimension, none negative; an empty shape is a scalar (one element)
     * @param data the elements in C order, little-endian: the product of the shape times
     *        {@link #itemSize(String) itemSize(dtype)} bytes
     * @throws IllegalArgumentException if the dtype is unknown, a size is negative, or the data's
     *         length does not match
     */
    public NdArray {
        int item = itemSize(dtype);
        long count = 1;
        for (int n : shape) {
            if (n < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative size");
            }
            count = multiplied(count, n, shape);
        }
        if (multiplied(count, item, shape) != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                    + count * item + " bytes, the data has " + data.length);
        }
    }

    /** A product of sizes that must not wrap around (a wrapped count could match any data length). */
    private static long multiplied(long a, long b, int[] shape) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more elements than any array can hold");
        }
    }

    /**
     * The size of one element of a dtype, in bytes.
     *
     * @param dtype one of {@link #DTYPES}
     * @return 1, 2, 4 or 8
     * @throws IllegalArgumentException if the dtype is not one of {@link #DTYPES}
     */
    public static int itemSize(String dtype) {
        return switch (dtype) {
            case "bool", "int8", "uint8" -> 1;
            case "int16", "uint16" -> 2;
            case "int32", "uint32", "float32" -> 4;
            case "int64", "uint64", "float64" -> 8;
            default -> throw new IllegalArgumentException("dtype '" + dtype + "' is not one of " + DTYPES);
        };
    }

    // ---- making one -----------------------------------------------------------------------------------

    /**
     * A float64 array; with no shape given, one-dimensional.
     *
     * @param values the elements in C order (copied)
     * @param shape the size of each dimension, whose product is {@code values.length}; none for {@code [values.length]}
     * @return the array
     * @throws IllegalArgumentException if the shape does not fit the number of values
     */
    public static NdArray of(double[] values, int... shape) {
        ByteBuffer b = allocate(values.length, 8);
        b.asDoubleBuffer().put(values);
        return new NdArray("float64", shapeOr(shape, values.length), b.array());
    }

    /**
     * A float32 array; with no shape given, one-dimensional.
     *
     * @param values the elements in C order (copied)
     * @param shape the size of each dimension, whose product is {@code values.length}; none for {@code [values.length]}
     * @return the array
     * @throws IllegalArgumentException if the shape does not fit the number of values
     */
    public static NdArray of(float[] values, int... shape) {
        ByteBuffer b = allocate(values.length, 4);
        b.asFloatBuffer().put(values);
        return new NdArray("float32", shapeOr(shape, values.length), b.array());
    }

    /**
     * An int64 array; with no shape given, one-dimensional.
     *
     * @param values the elements in C order (copied)
     * @param shape the size of each dimension, whose product is {@code values.length}; none for {@code [values.length]}
     * @return the array
     * @throws IllegalArgumentException if the shape does not fit the number of values
     */
    public static NdArray of(long[] values, int... shape) {
        ByteBuffer b = allocate(values.length, 8);
        b.asLongBuffer().put(values);
        return new NdArray("int64", shapeOr(shape, values.length), b.array());
    }

    /**
     * An int32 array; with no shape given, one-dimensional.
     *
     * @param values the elements in C order (copied)
     * @param shape the size of each dimension, whose product is {@code values.length}; none for {@code [values.length]}
     * @return the array
     * @throws IllegalArgumentException if the shape does not fit the number of values
     */
    public static NdArray of(int[] values, int... shape) {
        ByteBuffer b = allocate(values.length, 4);
        b.asIntBuffer().put(values);
        return new NdArray("int32", shapeOr(shape, values.length), b.array());
    }

    /**
     * A uint8 array over these bytes (not copied); with no shape given, one-dimensional.
     *
     * @param values the elements in C order, shared with the array: changing one changes the other
     * @param shape the size of each dimension, whose product is {@code values.length}; none for {@code [values.length]}
     * @return the array
     * @throws IllegalArgumentException if the shape does not fit the number of values
     */
    public static NdArray ofUint8(byte[] values, int... shape) {
        return new NdArray("uint8", shapeOr(shape, values.length), values);
    }

    private static ByteBuffer allocate(int count, int item) {
        return ByteBuffer.allocate(Math.multiplyExact(count, item)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static int[] shapeOr(int[] shape, int length) {
        return shape.length == 0 ? new int[] {length} : shape.clone();
    }

    // ---- reading it -----------------------------------------------------------------------------------

    /**
     * The number of elements.
     *
     * @return the product of the shape (1 for a scalar)
     */
    public int size() {
        return data.length / itemSize(dtype);
    }

    /**
     * The data as a read-only little-endian buffer (no copy).
     *
     * @return a read-only buffer over {@link #data()}, positioned at 0, in little-endian order
     */
    public ByteBuffer buffer() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The elements in C order as doubles, converted from any dtype.
     *
     * @return a new array of {@link #size()} elements (bools as 0 and 1)
     */
    public double[] asDoubles() {
        double[] out = new double[size()];
        if (dtype.equals("float64")) {
            buffer().asDoubleBuffer().get(out);
            return out;
        }
        ByteBuffer b = buffer();
        for (int i = 0; i < out.length; i++) {
            out[i] = doubleAt(b, i);
        }
        return out;
    }

    /**
     * The elements in C order as floats, converted from any dtype.
     *
     * @return a new array of {@link #size()} elements (bools as 0 and 1; wider types rounded)
     */
    public float[] asFloats() {
        float[] out = new float[size()];
        if (dtype.equals("float32")) {
            buffer().asFloatBuffer().get(out);
            return out;
        }
        ByteBuffer b = buffer();
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) doubleAt(b, i);
        }
        return out;
    }

    /**
     * The elements in C order as longs: integers and bools as they are (uint64 wraps), floats truncated.
     *
     * @return a new array of {@link #size()} elements
     */
    public long[] asLongs() {
        long[] out = new long[size()];
        if (dtype.equals("int64") || dtype.equals("uint64")) {
            buffer().asLongBuffer().get(out);
            return out;
        }
        ByteBuffer b = buffer();
        for (int i = 0; i < out.length; i++) {
            out[i] = longAt(b, i);
        }
        return out;
    }

    /**
     * The elements in C order as ints: narrower integers and bools as they are, others cast.
     *
     * @return a new array of {@link #size()} elements
     */
    public int[] asInts() {
        int[] out = new int[size()];
        ByteBuffer b = buffer();
        for (int i = 0; i < out.length; i++) {
            out[i] = (int) longAt(b, i);
        }
        return out;
    }

    private double doubleAt(ByteBuffer b, int i) {
        return switch (dtype) {
            case "float64" -> b.getDouble(i * 8);
            case "float32" -> b.getFloat(i * 4);
            case "uint64" -> {
                long v = b.getLong(i * 8);
                yield v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
            }
            default -> longAt(b, i);
        };
    }

    private long longAt(ByteBuffer b, int i) {
        return switch (dtype) {
            case "bool", "uint8" -> data[i] & 0xFF;
            case "int8" -> data[i];
            case "int16" -> b.getShort(i * 2);
            case "uint16" -> b.getShort(i * 2) & 0xFFFF;
            case "int32" -> b.getInt(i * 4);
            case "uint32" -> b.getInt(i * 4) & 0xFFFFFFFFL;
            case "int64", "uint64" -> b.getLong(i * 8);
            case "float32" -> (long) b.getFloat(i * 4);
            default -> (long) b.getDouble(i * 8);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NdArray a && dtype.equals(a.dtype) && Arrays.equals(shape, a.shape)
                && Arrays.equals(data, a.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "NdArray[" + dtype + " " + Arrays.toString(shape) + ", " + data.length + " bytes]";
    }
}
