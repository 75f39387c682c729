using System.Runtime.InteropServices;

namespace DinCluster.Core.Optimizers;

/// <summary>
/// A 64-bit fingerprint of a float array's exact bits (FNV-1a over 32-bit words): equal arrays give
/// equal values on every machine, and one flipped bit changes it. Used to check that a worker's
/// dense replica still equals the dense parameter actor's weights.
/// </summary>
public static class DenseChecksum
{
    private const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    public static ulong Of(ReadOnlySpan<float> values)
    {
        var hash = Offset;
        foreach (var word in MemoryMarshal.Cast<float, uint>(values)) hash = (hash ^ word) * Prime;
        return hash;
    }
}
