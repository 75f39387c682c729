namespace DinCluster.Core.Tests.Routing;

/// <summary>Zipf(s) ranks 0..n-1 (rank r drawn with weight 1/(r+1)^s) by inverting a precomputed CDF.</summary>
internal sealed class Zipf
{
    private readonly double[] _cdf;
    private readonly Random _rng;

    public Zipf(int n, double s, int seed)
    {
        _rng = new Random(seed);
        _cdf = new double[n];
        var sum = 0.0;
        for (var r = 0; r < n; r++) _cdf[r] = sum += 1.0 / Math.Pow(r + 1, s);
        for (var r = 0; r < n; r++) _cdf[r] /= sum;
    }

    public int Next()
    {
        var i = Array.BinarySearch(_cdf, _rng.NextDouble());
        return Math.Min(i < 0 ? ~i : i, _cdf.Length - 1);
    }
}
