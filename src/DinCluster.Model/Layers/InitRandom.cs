namespace DinCluster.Model.Layers;

/// <summary>
/// SplitMix64: a tiny generator whose sequence is fixed by its seed on every platform and
/// runtime, so initial weights never depend on libtorch's global generator.
/// </summary>
internal sealed class InitRandom(int seed)
{
    private ulong _state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + 0x2545F4914F6CDD1DUL);

    private ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Glorot/Xavier uniform values for a [fanOut, fanIn] weight, row-major.</summary>
    public double[] GlorotUniform(int fanOut, int fanIn)
    {
        var limit = Math.Sqrt(6.0 / (fanIn + fanOut));
        var values = new double[fanOut * fanIn];
        for (var i = 0; i < values.Length; i++) values[i] = (2 * NextDouble() - 1) * limit;
        return values;
    }
}
