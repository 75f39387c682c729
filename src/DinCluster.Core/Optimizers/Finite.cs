using System.Numerics;
using System.Runtime.InteropServices;

namespace DinCluster.Core.Optimizers;

/// <summary>NaN/Inf detection for gradient arrays, so a bad gradient is refused before anything is applied.</summary>
public static class Finite
{
    /// <summary>True when no value is NaN or +-Inf.</summary>
    public static bool All(ReadOnlySpan<float> values)
    {
        // x - x is 0 for every finite x and NaN for NaN and +-Inf; NaN != NaN flags it.
        ref var r = ref MemoryMarshal.GetReference(values);
        var acc = Vector<float>.Zero;
        var i = 0;
        for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = Vector.LoadUnsafe(ref r, (nuint)i);
            acc += v - v;
        }
        if (!Vector.EqualsAll(acc, Vector<float>.Zero)) return false;
        for (; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return false;
        return true;
    }
}
