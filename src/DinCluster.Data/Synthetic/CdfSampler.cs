namespace DinCluster.Data;

/// <summary>Draws index i with probability weight[i] / sum (cumulative weights, binary search).</summary>
internal sealed class CdfSampler
{
    private readonly double[] _cdf;

    public CdfSampler(IReadOnlyList<double> weights)
    {
        if (weights.Count == 0) throw new ArgumentException("no weights", nameof(weights));
        _cdf = new double[weights.Count];
        var sum = 0.0;
        for (var i = 0; i < weights.Count; i++) _cdf[i] = sum += weights[i];
        if (!(sum > 0)) throw new ArgumentException("weights sum to zero", nameof(weights));
    }

    public int Sample(Xoshiro256 rng)
    {
        var u = rng.NextDouble() * _cdf[^1];
        var i = Array.BinarySearch(_cdf, u);
        i = i < 0 ? ~i : i + 1;   // first cdf > u
        return Math.Min(i, _cdf.Length - 1);
    }
}
