using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace DinCluster.Model.Training;

/// <summary>Copies between .NET arrays and CPU tensors through the tensor's raw storage (one memcpy each way).</summary>
internal static class TensorData
{
    /// <summary>A new tensor of <paramref name="shape"/> holding <paramref name="values"/>, converted to <paramref name="dtype"/>.</summary>
    public static Tensor FromFloats(ReadOnlySpan<float> values, ReadOnlySpan<long> shape, ScalarType dtype)
    {
        var t = empty(shape, ScalarType.Float32);
        if (values.Length != t.numel())
            throw new ArgumentException($"{values.Length} values for a tensor of shape [{string.Join(", ", shape.ToArray())}]");
        if (values.Length > 0) values.CopyTo(MemoryMarshal.Cast<byte, float>(t.bytes));
        return dtype == ScalarType.Float32 ? t : t.to(dtype);
    }

    /// <summary>Copies <paramref name="values"/> into contiguous float32 <paramref name="target"/> from element <paramref name="offset"/> on.</summary>
    public static void CopyInto(ReadOnlySpan<float> values, Tensor target, int offset)
    {
        if (values.Length > 0) values.CopyTo(MemoryMarshal.Cast<byte, float>(target.bytes)[offset..]);
    }

    public static Tensor FromDoubles(ReadOnlySpan<double> values, ReadOnlySpan<long> shape)
    {
        var t = empty(shape, ScalarType.Float64);
        if (values.Length > 0) values.CopyTo(MemoryMarshal.Cast<byte, double>(t.bytes));
        return t;
    }

    public static Tensor FromLongs(ReadOnlySpan<long> values)
    {
        var t = empty([values.Length], ScalarType.Int64);
        if (values.Length > 0) values.CopyTo(MemoryMarshal.Cast<byte, long>(t.bytes));
        return t;
    }

    /// <summary>One int64 tensor holding <paramref name="parts"/> one after the other.</summary>
    public static Tensor FromLongs(IReadOnlyList<long[]> parts)
    {
        var t = empty([parts.Sum(p => (long)p.Length)], ScalarType.Int64);
        if (t.numel() == 0) return t;
        var target = MemoryMarshal.Cast<byte, long>(t.bytes);
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(target[offset..]);
            offset += part.Length;
        }
        return t;
    }

    /// <summary>An int64 index tensor (index_select wants int64) of <paramref name="slots"/> + <paramref name="offset"/>.</summary>
    public static Tensor FromSlots(int[] slots, int offset)
    {
        var t = empty([slots.Length], ScalarType.Int64);
        if (slots.Length == 0) return t;
        var target = MemoryMarshal.Cast<byte, long>(t.bytes);
        for (var i = 0; i < slots.Length; i++) target[i] = slots[i] + offset;
        return t;
    }

    /// <summary>Writes the values of <paramref name="t"/> (any float dtype, any layout) into <paramref name="destination"/> as float32.</summary>
    public static void CopyTo(Tensor t, Span<float> destination)
    {
        if (t.numel() != destination.Length)
            throw new ArgumentException($"a tensor of {t.numel()} values copied into {destination.Length}");
        if (destination.Length == 0) return;
        using var scope = NewDisposeScope();
        var src = t.dtype == ScalarType.Float32 && t.is_contiguous() ? t : t.to(ScalarType.Float32).contiguous();
        MemoryMarshal.Cast<byte, float>(src.bytes).CopyTo(destination);
    }

    public static float[] ToFloats(Tensor t)
    {
        var values = new float[t.numel()];
        CopyTo(t, values);
        return values;
    }

    public static double[] ToDoubles(Tensor t)
    {
        if (t.numel() == 0) return [];
        using var scope = NewDisposeScope();
        var src = t.to(ScalarType.Float64).contiguous();
        return MemoryMarshal.Cast<byte, double>(src.bytes).ToArray();
    }

    public static long[] ToLongs(Tensor t)
    {
        if (t.numel() == 0) return [];
        using var scope = NewDisposeScope();
        return MemoryMarshal.Cast<byte, long>(t.to(ScalarType.Int64).contiguous().bytes).ToArray();
    }

    /// <summary>Overwrites <paramref name="target"/> in place (autograd off), converting to its dtype.</summary>
    public static void Assign(Tensor target, ReadOnlySpan<float> values)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        target.copy_(FromFloats(values, target.shape, target.dtype));
    }
}
